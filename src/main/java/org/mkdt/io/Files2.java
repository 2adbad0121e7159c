package org.mkdt.io;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** Reading whole files with the package's one-line errors. */
final class Files2 {
    /** Java arrays hold at most this many bytes. */
    static final long MAX_FILE_BYTES = Integer.MAX_VALUE - 8;

    private Files2() {}

    static byte[] readAll(Path file) {
        try {
            if (Files.isDirectory(file)) throw new BadFileException(file.toString(), "is a directory, expected a file");
            long size = Files.size(file);
            if (size > MAX_FILE_BYTES) throw new BadFileException(file.toString(), "file of " + size + " bytes is larger than the 2 GiB this reader handles");
            return Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new BadFileException(file.toString(), "no such file");
        } catch (IOException e) {
            throw new BadFileException(file.toString(), "cannot read: " + e.getMessage(), e);
        }
    }
}
