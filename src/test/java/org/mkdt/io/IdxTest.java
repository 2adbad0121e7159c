package org.mkdt.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;

class IdxTest {
    private static final NdArray IMAGES = NdArray.ofBytes(new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, 3, 2, 2);

    static byte[] gzip(byte[] b) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
            gz.write(b);
        }
        return out.toByteArray();
    }

    @Test
    void readsPlainAndGzipped() throws IOException {
        byte[] plain = Idx.toBytes(IMAGES);
        for (byte[] b : new byte[][] {plain, gzip(plain)}) {
            NdArray a = Idx.read(b, "mem");
            assertArrayEquals(new int[] {3, 2, 2}, a.shape());
            assertArrayEquals(IMAGES.toDoubles(), a.toDoubles());
        }
    }

    private static String bad(byte[] b) {
        BadFileException e = assertThrows(BadFileException.class, () -> Idx.read(b, "x-idx3-ubyte"));
        assertTrue(e.getMessage().startsWith("x-idx3-ubyte: ") && !e.getMessage().contains("\n"), e.getMessage());
        return e.getMessage();
    }

    @Test
    void badInputs() throws IOException {
        byte[] plain = Idx.toBytes(IMAGES);
        assertTrue(bad(Arrays.copyOf(plain, plain.length - 1)).contains("truncated"));
        assertTrue(bad(Arrays.copyOf(plain, 3)).contains("truncated"));
        byte[] gz = gzip(plain);
        assertTrue(bad(gzip(Arrays.copyOf(plain, plain.length - 2))).contains("truncated"));
        assertTrue(bad(Arrays.copyOf(gz, gz.length - 6)).contains("truncated") || bad(Arrays.copyOf(gz, gz.length - 6)).contains("gzip"));
        byte[] magic = plain.clone();
        magic[0] = 1;
        assertTrue(bad(magic).contains("magic"));
        byte[] type = plain.clone();
        type[2] = 0x0D;
        assertTrue(bad(type).contains("element type"));
        byte[] extra = Arrays.copyOf(plain, plain.length + 1);
        assertTrue(bad(extra).contains("beyond"));
        // A 1 kB file claiming 10^12 elements: rejected from the header, nothing allocated.
        ByteBuffer huge = ByteBuffer.allocate(1024).put(new byte[] {0, 0, 8, 2}).putInt(1_000_000).putInt(1_000_000);
        assertTrue(bad(huge.array()).contains("more than"));
        ByteBuffer big = ByteBuffer.allocate(1024).put(new byte[] {0, 0, 8, 2}).putInt(1000).putInt(1000);
        assertTrue(bad(big.array()).contains("claims 1000000 elements"));
        assertTrue(bad(gzip(big.array())).contains("cannot hold") || bad(gzip(big.array())).contains("truncated"));
    }
}
