package dev.llmj.cli;

import dev.llmj.LlmjException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;

/** The {@code llmj} command: one subcommand per job. Errors print one line and exit with status 2. */
@Command(name = "llmj",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        description = "A transformer language-model toolkit for the JVM: tokenizers, training, generation, inspection.",
        subcommands = {TrainCommand.class, GenerateCommand.class, TranslateCommand.class, EvalCommand.class, FillMaskCommand.class, EmbedCommand.class, ExplainCommand.class, LessonCommand.class, TokenizeCommand.class, TrainTokenizerCommand.class,
                BenchCommand.class, CommandLine.HelpCommand.class},
        footer = {"", "Run 'llmj COMMAND --help' for a command's options. Add --verbose to see a stack trace on error."})
public final class Main implements Runnable {

    /** Exit status for bad input or a failed job (the user can fix it). */
    public static final int EXIT_USER_ERROR = 2;
    /** Exit status for a bug in llmj itself. */
    public static final int EXIT_INTERNAL_ERROR = 1;

    @Option(names = "--verbose", scope = ScopeType.INHERIT, description = "Print stack traces on errors.")
    boolean verbose;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    public static void main(String[] args) {
        System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs the CLI with the given streams and returns the exit status (for tests and for main). */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        Main main = new Main();
        CommandLine cl = new CommandLine(main);
        cl.setOut(out);
        cl.setErr(err);
        cl.setParameterExceptionHandler((ex, a) -> {
            CommandLine c = ex.getCommandLine();
            String msg = ex.getMessage() == null ? ex.toString() : ex.getMessage();
            err.println("llmj: " + (msg.startsWith("Error: ") ? msg.substring(7) : msg));
            err.println("Try '" + c.getCommandSpec().qualifiedName() + " --help'.");
            return EXIT_USER_ERROR;
        });
        cl.setExecutionExceptionHandler((ex, c, parseResult) -> {
            boolean verbose = java.util.Arrays.asList(args).contains("--verbose"); // at any subcommand depth
            if (ex instanceof LlmjException) {
                err.println("llmj: " + ex.getMessage());
                if (verbose) ex.printStackTrace(err);
                return EXIT_USER_ERROR;
            }
            err.println("llmj: internal error: " + ex + (verbose ? "" : " (run with --verbose for the stack trace)"));
            if (verbose) ex.printStackTrace(err);
            return EXIT_INTERNAL_ERROR;
        });
        int status = cl.execute(args);
        out.flush();
        err.flush();
        return status;
    }

    /** Where the launcher says llmj is installed (for the bundled corpus); the working folder otherwise. */
    static Path home() {
        String h = System.getProperty("llmj.home");
        return Path.of(h != null ? h : ".");
    }

    /** The bundled default corpus: Shakespeare, as in nanoGPT. */
    static Path defaultCorpus() {
        Path p = home().resolve("data").resolve("tinyshakespeare.txt");
        if (!Files.isRegularFile(p)) {
            throw new LlmjException("no --data given and the bundled corpus " + p + " is missing; pass --data FILE");
        }
        return p;
    }

    /** A path as the user would type it: relative to the working folder when it lies below it. */
    static String shown(Path p) {
        Path cwd = Path.of("").toAbsolutePath();
        Path abs = p.toAbsolutePath().normalize();
        return abs.startsWith(cwd) && !abs.equals(cwd) ? cwd.relativize(abs).toString() : p.toString();
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"llmj " + (v != null ? v : "0.1.0-SNAPSHOT") + " (Java " + Runtime.version() + ")"};
        }
    }
}
