package org.mkdt.io;

/**
 * The one exception every reader of this package throws for bad input: a missing, truncated or
 * malformed file, or contents that contradict each other. The message is one line, naming the
 * file (or stream) and the problem, ready for the CLI to print: text taken from the file (names,
 * header fragments) is cleaned of line breaks and control characters and shortened.
 */
public final class BadFileException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private static final int MAX_MESSAGE = 400;

    private final String problem;

    public BadFileException(String source, String problem) {
        super(oneLine(source + ": " + problem));
        this.problem = problem;
    }

    public BadFileException(String source, String problem, Throwable cause) {
        super(oneLine(source + ": " + problem), cause);
        this.problem = problem;
    }

    /** What is wrong, without the file's name. */
    public String problem() {
        return problem;
    }

    /** s with control characters and Unicode line or paragraph separators as spaces, at most 400 chars. */
    public static String oneLine(String s) {
        String t = s.length() > 2 * MAX_MESSAGE ? s.substring(0, 2 * MAX_MESSAGE) : s;
        StringBuilder b = new StringBuilder(t.length());
        for (int i = 0; i < t.length(); i++) {
            char c = t.charAt(i);
            b.append(Character.isISOControl(c) || c == '\u2028' || c == '\u2029' ? ' ' : c);
        }
        String one = b.toString();
        return one.length() <= MAX_MESSAGE ? one : one.substring(0, MAX_MESSAGE - 3) + "...";
    }
}
