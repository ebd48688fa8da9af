package dev.llmj.cli;

import dev.llmj.inspect.Lesson;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.concurrent.Callable;

/** {@code llmj lesson}: the tutorial's 猫 在 垫子 上, trained for real in a couple of seconds. */
@Command(name = "lesson", mixinStandardHelpOptions = true,
        description = {"Train a tiny GPT on sentences like '猫 在 垫子 上' and watch P(上 | 猫 在 垫子) rise from 1/vocabulary towards 1,",
                "then see what it expects next and where '垫子' attends. The same --seed prints the same numbers."},
        footer = {"", "Examples:", "  llmj lesson", "  llmj lesson --steps 50 --seed 7", "  llmj lesson --json"})
final class LessonCommand implements Callable<Integer> {
    @Option(names = "--steps", paramLabel = "N", defaultValue = "200", description = "AdamW steps, each over the whole corpus. Default: ${DEFAULT-VALUE}.")
    int steps;
    @Option(names = "--seed", paramLabel = "S", defaultValue = "1337", description = "Seed of the initial weights. Default: ${DEFAULT-VALUE}.")
    long seed;
    @Option(names = "--json", description = "Print the numbers as one JSON object.")
    boolean json;
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        Lesson.Result r = Lesson.run(steps, seed);
        PrintWriter o = spec.commandLine().getOut();
        if (json) o.println(Lesson.json(r));
        else o.print(Lesson.render(r));
        o.flush();
        return 0;
    }
}
