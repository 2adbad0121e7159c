package org.mkdt.io;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** Reading whole files with the package's one-line errors: regular files only, size-bounded. */
public final class Files2 {
    /** Java arrays hold at most this many bytes. */
    public static final long MAX_FILE_BYTES = Integer.MAX_VALUE - 8;

    private Files2() {}

    /** The whole file, which must be a regular file (a symlink to one is fine) of at most 2 GiB. */
    public static byte[] readAll(Path file) {
        return readAll(file, MAX_FILE_BYTES, "this reader handles");
    }

    /**
     * The whole file, at most {@code maxBytes} long. A device, FIFO or directory is refused
     * before it is opened: /dev/zero behind a symlink would otherwise read until memory runs out.
     */
    public static byte[] readAll(Path file, long maxBytes, String limitWhy) {
        try {
            if (!Files.exists(file)) throw new BadFileException(file.toString(), "no such file");
            if (Files.isDirectory(file)) throw new BadFileException(file.toString(), "is a directory, expected a file");
            if (!Files.isRegularFile(file)) throw new BadFileException(file.toString(), "is not a regular file (a device, pipe or socket?)");
            long size = Files.size(file);
            if (size > maxBytes) throw new BadFileException(file.toString(), "file of " + size + " bytes is larger than the " + maxBytes + " bytes " + limitWhy);
            return Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new BadFileException(file.toString(), "no such file");
        } catch (IOException e) {
            throw new BadFileException(file.toString(), "cannot read: " + e.getMessage(), e);
        }
    }
}
