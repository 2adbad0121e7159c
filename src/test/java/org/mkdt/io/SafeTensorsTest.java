package org.mkdt.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mkdt.testing.Python;

class SafeTensorsTest {
    @TempDir
    Path dir;

    private static Map<String, NdArray> sample() {
        Map<String, NdArray> t = new LinkedHashMap<>();
        t.put("weights", NdArray.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3));
        t.put("ids", NdArray.of(new long[] {9, -9}, 2));
        t.put("mask", NdArray.ofBytes(new byte[] {1, 0, 1}, 3));
        return t;
    }

    @Test
    void roundTripsTensorsAndMetadata() {
        byte[] b = SafeTensors.toBytes(sample(), Map.of("format", "test", "note", "é"));
        long headerLen = ByteBuffer.wrap(b, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, (8 + headerLen) % 8, "data is 8-byte aligned");
        SafeTensors.Contents c = SafeTensors.read(b, "mem");
        assertEquals(List.of("weights", "ids", "mask"), List.copyOf(c.tensors().keySet()));
        assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, c.tensors().get("weights").toFloats());
        assertArrayEquals(new int[] {2, 3}, c.tensors().get("weights").shape());
        assertArrayEquals(new double[] {9, -9}, c.tensors().get("ids").toDoubles());
        assertEquals("é", c.metadata().get("note"));
    }

    @Test
    void numpyReadsTheDocumentedLayout() throws Exception {
        Python.assumeNumpy();
        Path f = dir.resolve("t.safetensors");
        SafeTensors.write(f, sample(), Map.of("format", "test"));
        String code = "import json, struct, sys, numpy as np\n"
                + "b = open(sys.argv[1], 'rb').read(); n = struct.unpack('<Q', b[:8])[0]; h = json.loads(b[8:8 + n]); d = b[8 + n:]\n"
                + "dt = {'F32': '<f4', 'I64': '<i8', 'U8': 'u1'}\n"
                + "for k in ['weights', 'ids', 'mask']:\n"
                + "    e = h[k]; s, t = e['data_offsets']\n"
                + "    print(k, np.frombuffer(d[s:t], dtype=dt[e['dtype']]).reshape(e['shape']).tolist())\n"
                + "print(h['__metadata__']['format'])";
        Python.Result r = Python.run(code, f.toString());
        assertEquals(0, r.exit(), r.out());
        assertEquals("weights [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]\nids [9, -9]\nmask [1, 0, 1]\ntest", r.out());
    }

    @Test
    void javaReadsWhatPythonWrote() throws Exception {
        Python.assumeNumpy();
        Path f = dir.resolve("py.safetensors");
        String code = "import json, struct, sys, numpy as np\n"
                + "a = np.arange(6, dtype=np.float64).reshape(3, 2); c = np.array([7, 8], dtype=np.int32)\n"
                + "h = {'__metadata__': {'by': 'python'}, 'a': {'dtype': 'F64', 'shape': [3, 2], 'data_offsets': [0, 48]},"
                + " 'c': {'dtype': 'I32', 'shape': [2], 'data_offsets': [48, 56]}}\n"
                + "j = json.dumps(h).encode(); open(sys.argv[1], 'wb').write(struct.pack('<Q', len(j)) + j + a.tobytes() + c.tobytes())";
        Python.Result r = Python.run(code, f.toString());
        assertEquals(0, r.exit(), r.out());
        SafeTensors.Contents c = SafeTensors.read(f);
        assertArrayEquals(new double[] {0, 1, 2, 3, 4, 5}, c.tensors().get("a").toDoubles());
        assertArrayEquals(new int[] {7, 8}, c.tensors().get("c").toInts("c"));
        assertEquals("python", c.metadata().get("by"));
    }

    private static byte[] file(String header, int dataBytes) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length).put(h).array();
    }

    private static String bad(byte[] b) {
        BadFileException e = assertThrows(BadFileException.class, () -> SafeTensors.read(b, "x.safetensors"));
        assertTrue(e.getMessage().startsWith("x.safetensors: ") && !e.getMessage().contains("\n"), e.getMessage());
        return e.getMessage();
    }

    @Test
    void badInputs() {
        byte[] good = SafeTensors.toBytes(sample(), Map.of());
        assertTrue(bad(Arrays.copyOf(good, good.length - 1)).contains("truncated"));
        assertTrue(bad(Arrays.copyOf(good, 5)).contains("truncated"));
        assertTrue(bad(Arrays.copyOf(good, 20)).contains("truncated"));
        assertTrue(bad(file("{not json", 0)).contains("invalid JSON"));
        assertTrue(bad(file("[1, 2]", 0)).contains("not a JSON object"));
        assertTrue(bad(file("{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}}", 4)).contains("outside"));
        assertTrue(bad(file("{\"a\": {\"dtype\": \"F32\", \"shape\": [3], \"data_offsets\": [0, 8]}}", 8)).contains("needs 12 bytes"));
        assertTrue(bad(file("{\"a\": {\"dtype\": \"C64\", \"shape\": [1], \"data_offsets\": [0, 8]}}", 8)).contains("unsupported dtype"));
        assertTrue(bad(file("{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4, 8]}}", 8)).contains("hole or overlap"));
        // 10^12 elements claimed by a file of a few hundred bytes: rejected from the header alone.
        assertTrue(bad(file("{\"a\": {\"dtype\": \"F32\", \"shape\": [1000000, 1000000], \"data_offsets\": [0, 4000000000000]}}", 300)).contains("more than"));
        byte[] hugeHeader = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(1L << 40).array();
        assertTrue(bad(hugeHeader).contains("implausible"));
        assertTrue(bad(file("{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}, \"a\": {}}", 4)).contains("invalid JSON"));
        assertTrue(bad(file("{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}} junk", 4)).contains("invalid JSON"));
        assertTrue(bad(file("{\"a\\nb\": 5}", 0)).contains("is not a JSON object"));
    }

    @Test
    void anEmptyTensorMaySitAtAnyOffsetInAnyKeyOrder() {
        byte[] b = file("{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}, "
                + "\"b\": {\"dtype\": \"F32\", \"shape\": [0], \"data_offsets\": [0, 0]}}", 4);
        SafeTensors.Contents c = SafeTensors.read(b, "mem");
        assertEquals(0, c.tensors().get("b").numel());
    }
}
