package org.mkdt.io;

/**
 * The one exception every reader of this package throws for bad input: a missing, truncated or
 * malformed file, or contents that contradict each other. The message is one line, naming the
 * file (or stream) and the problem, ready for the CLI to print.
 */
public final class BadFileException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public BadFileException(String source, String problem) {
        super(source + ": " + problem);
    }

    public BadFileException(String source, String problem, Throwable cause) {
        super(source + ": " + problem, cause);
    }
}
