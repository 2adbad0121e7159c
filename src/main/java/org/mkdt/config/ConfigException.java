package org.mkdt.config;

/** A configuration error, one line naming the key: "config: teacher.epochs: must be positive, got 0". */
public final class ConfigException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public ConfigException(String key, String problem) {
        super("config: " + key + ": " + problem);
    }
}
