package dev.llmj.cli;

import dev.llmj.LlmjException;
import dev.llmj.tensor.Parallel;
import picocli.CommandLine.Option;

/** {@code --threads N}, shared by every command that runs the kernels. */
final class ThreadsOption {
    @Option(names = "--threads", paramLabel = "N", description = "Worker threads (default: all cores).")
    Integer threads;

    /** Sizes the kernels' thread pool, if the option was given. */
    void apply() {
        if (threads == null) return;
        if (threads < 1) throw new LlmjException("--threads must be at least 1");
        Parallel.setThreads(threads);
    }
}
