package org.mkdt.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mkdt.testing.Python;

class NpyTest {
    @TempDir
    Path dir;

    @Test
    void roundTripsEveryType() {
        NdArray[] arrays = {
            NdArray.of(new float[] {1.5f, -2f, 3f, 4f, 5f, 6f}, 2, 3),
            NdArray.of(new double[] {Math.PI, -1e300}, 2),
            NdArray.of(new long[] {Long.MAX_VALUE, -7}, 2, 1),
            NdArray.of(new int[] {1, 2, 3}, 3),
            NdArray.ofBytes(new byte[] {0, (byte) 255, 7, 8}, 2, 2),
            NdArray.of(new float[] {42f}),
        };
        for (NdArray a : arrays) {
            NdArray b = Npy.read(Npy.toBytes(a), "mem");
            assertEquals(a.type(), b.type());
            assertArrayEquals(a.shape(), b.shape());
            assertEquals(a.data(), b.data());
        }
    }

    @Test
    void headersArePaddedTo64Bytes() {
        byte[] b = Npy.toBytes(NdArray.of(new float[] {1, 2, 3}, 3));
        int headerLen = ByteBuffer.wrap(b, 8, 2).order(ByteOrder.LITTLE_ENDIAN).getShort();
        assertEquals(0, (10 + headerLen) % 64);
    }

    @Test
    void readsVersions2And3AndBigEndian() {
        assertArrayEquals(new double[] {1, 2}, Npy.read(withVersion(2, "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", le(1.0, 2.0)), "v2").toDoubles());
        assertArrayEquals(new double[] {1, 2}, Npy.read(withVersion(3, "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", le(1.0, 2.0)), "v3").toDoubles());
        ByteBuffer be = ByteBuffer.allocate(8).order(ByteOrder.BIG_ENDIAN).putInt(7).putInt(-3);
        assertArrayEquals(new double[] {7, -3}, Npy.read(withVersion(1, "{'descr': '>i4', 'fortran_order': False, 'shape': (2,), }", be.array()), "be").toDoubles());
    }

    @Test
    void javaWritesNumpyReads() throws Exception {
        Python.assumeNumpy();
        Path f = dir.resolve("a.npy");
        Npy.write(f, NdArray.of(new float[] {1.25f, -2f, 3f, 4f, 5f, 6f}, 2, 3));
        Path g = dir.resolve("b.npy");
        Npy.write(g, NdArray.of(new long[] {5, -6}, 2));
        Python.Result r = Python.run("import numpy as np, sys; a = np.load(sys.argv[1]); b = np.load(sys.argv[2]); "
                + "print(a.dtype, a.shape, a.tolist(), b.dtype, b.tolist())", f.toString(), g.toString());
        assertEquals(0, r.exit(), r.out());
        assertEquals("float32 (2, 3) [[1.25, -2.0, 3.0], [4.0, 5.0, 6.0]] int64 [5, -6]", r.out());
    }

    @Test
    void numpyWritesJavaReads() throws Exception {
        Python.assumeNumpy();
        String code = "import numpy as np, sys, os; d = sys.argv[1]\n"
                + "np.save(os.path.join(d, 'f8.npy'), np.arange(12, dtype=np.float64).reshape(3, 4) / 4)\n"
                + "np.save(os.path.join(d, 'u1.npy'), np.array([[0, 255], [1, 2]], dtype=np.uint8))\n"
                + "np.save(os.path.join(d, 'i4.npy'), np.array([-1, 2, 3], dtype=np.int32))\n"
                + "np.save(os.path.join(d, 'f4.npy'), np.ones((2, 0, 3), dtype=np.float32))\n"
                + "np.lib.format.write_array(open(os.path.join(d, 'v2.npy'), 'wb'), np.array([1.5, 2.5], dtype=np.float32), version=(2, 0))\n"
                + "np.lib.format.write_array(open(os.path.join(d, 'v3.npy'), 'wb'), np.array([3, 4], dtype=np.int64), version=(3, 0))\n";
        Python.Result r = Python.run(code, dir.toString());
        assertEquals(0, r.exit(), r.out());
        NdArray f8 = Npy.read(dir.resolve("f8.npy"));
        assertEquals(ElementType.F64, f8.type());
        assertArrayEquals(new int[] {3, 4}, f8.shape());
        assertEquals(2.75, f8.toDoubles()[11]);
        assertArrayEquals(new double[] {0, 255, 1, 2}, Npy.read(dir.resolve("u1.npy")).toDoubles());
        assertArrayEquals(new int[] {-1, 2, 3}, Npy.read(dir.resolve("i4.npy")).toInts("i4"));
        assertArrayEquals(new int[] {2, 0, 3}, Npy.read(dir.resolve("f4.npy")).shape());
        assertArrayEquals(new float[] {1.5f, 2.5f}, Npy.read(dir.resolve("v2.npy")).toFloats());
        assertArrayEquals(new double[] {3, 4}, Npy.read(dir.resolve("v3.npy")).toDoubles());
    }

    // ---- bad input: one exception type, one line naming the file and the problem -------------

    private BadFileException bad(byte[] bytes) {
        BadFileException e = assertThrows(BadFileException.class, () -> Npy.read(bytes, "x.npy"));
        assertTrue(e.getMessage().startsWith("x.npy: "), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
        return e;
    }

    @Test
    void missingFile() {
        BadFileException e = assertThrows(BadFileException.class, () -> Npy.read(dir.resolve("nope.npy")));
        assertTrue(e.getMessage().contains("nope.npy") && e.getMessage().contains("no such file"), e.getMessage());
    }

    @Test
    void truncatedFile() {
        byte[] good = Npy.toBytes(NdArray.of(new double[] {1, 2, 3, 4}, 4));
        assertTrue(bad(Arrays.copyOf(good, good.length - 3)).getMessage().contains("truncated"));
        assertTrue(bad(Arrays.copyOf(good, 20)).getMessage().contains("truncated"));
        assertTrue(bad(Arrays.copyOf(good, 5)).getMessage().contains("truncated"));
    }

    @Test
    void wrongMagic() {
        byte[] good = Npy.toBytes(NdArray.of(new double[] {1}, 1));
        good[1] = 'X';
        assertTrue(bad(good).getMessage().contains("magic"));
    }

    @Test
    void aSmallFileClaimingHugeCountsIsRejectedBeforeAllocating() {
        // 10^12 elements declared in about 1 kB: must fail on the count, not on memory.
        byte[] b = withVersion(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000, 1000000), }", new byte[900]);
        assertTrue(bad(b).getMessage().contains("more than"), "message");
        byte[] c = withVersion(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1000, 1000), }", new byte[900]);
        assertTrue(bad(c).getMessage().contains("header claims 1000000 elements"));
    }

    @Test
    void unsupportedLayoutsAndTypes() {
        assertTrue(bad(withVersion(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (1,), }", new byte[4])).getMessage().contains("Fortran"));
        assertTrue(bad(withVersion(1, "{'descr': '<c16', 'fortran_order': False, 'shape': (1,), }", new byte[16])).getMessage().contains("unsupported .npy dtype"));
        assertTrue(bad(withVersion(1, "not a dict", new byte[0])).getMessage().contains("malformed"));
        assertTrue(bad(withVersion(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }", new byte[0])).getMessage().contains("shape"));
    }

    @Test
    void headersAreParsedStrictly() {
        String[] malformed = {
            "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'extra': 1, }",
            "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,), }",
            "{'descr': '<f4' 'fortran_order': False, 'shape': (2,), }",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (1,,2), }",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (2), }",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (,), }",
            "{'descr': '|f4', 'fortran_order': False, 'shape': (2,), }",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), } trailing",
        };
        for (String h : malformed) {
            String m = bad(withVersion(1, h, new byte[8])).getMessage();
            assertTrue(m.contains("malformed .npy header"), m);
        }
        assertEquals(0, Npy.read(withVersion(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (), }", le(5.0)), "scalar").shape().length);
    }

    @Test
    void messagesStayOnOneLine() {
        String m = bad(withVersion(1, "{'descr': '<f4',\n\u2028 'fortran_order': Maybe, 'shape': (2,), }", new byte[8])).getMessage();
        assertFalse(m.contains("\u2028"), m);
    }

    static byte[] withVersion(int major, String dict, byte[] data) {
        byte[] h = (dict + "\n").getBytes(StandardCharsets.UTF_8);
        int pre = major == 1 ? 10 : 12;
        ByteBuffer b = ByteBuffer.allocate(pre + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', (byte) major, 0});
        if (major == 1) b.putShort((short) h.length);
        else b.putInt(h.length);
        return b.put(h).put(data).array();
    }

    static byte[] le(double... v) {
        ByteBuffer b = ByteBuffer.allocate(8 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (double x : v) b.putDouble(x);
        return b.array();
    }

    @Test
    void writesAreAtomic() throws Exception {
        Path f = dir.resolve("w.npy");
        Npy.write(f, NdArray.of(new float[] {1}, 1));
        Npy.write(f, NdArray.of(new float[] {2, 3}, 2));
        assertArrayEquals(new float[] {2, 3}, Npy.read(f).toFloats());
        try (var s = Files.list(dir)) {
            assertEquals(1, s.count(), "no temporary file may be left behind");
        }
        assertEquals("rw-r--r--", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(f)));
    }
}
