package dev.llmj;

/**
 * An error the user can act on: bad input, a missing or corrupt file, an impossible setting.
 * The message is one line that says what happened and what to do; the CLI prints it and exits
 * with status 2 (a stack trace only with {@code --verbose}).
 */
public class LlmjException extends RuntimeException {
    public LlmjException(String message) {
        super(message);
    }

    public LlmjException(String message, Throwable cause) {
        super(message, cause);
    }
}
