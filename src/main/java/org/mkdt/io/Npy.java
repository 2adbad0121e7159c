package org.mkdt.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * NumPy's .npy format, versions 1.0 to 3.0: the magic "\x93NUMPY", a version, the header
 * length (2 bytes in 1.0, 4 in 2.0 and 3.0), a Python dict literal {'descr', 'fortran_order',
 * 'shape'} padded with spaces and a newline, then the raw data. Reads float32, float64, int64,
 * int32 and uint8 in C order, either byte order; writes little-endian, version 1.0 (2.0 when
 * the header needs it), header padded to a multiple of 64 bytes as numpy does.
 *
 * <p>Every inconsistency is a {@link BadFileException}: the element count the header claims
 * must match the bytes that follow exactly, checked before any allocation.
 */
public final class Npy {
    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([<>|=]?)([a-z]\\d+)'");
    private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

    private Npy() {}

    public static NdArray read(Path file) {
        return read(Files2.readAll(file), file.toString());
    }

    /** Parses .npy bytes; {@code source} names them in errors. */
    public static NdArray read(byte[] bytes, String source) {
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        if (bytes.length < 10) throw new BadFileException(source, "truncated .npy file (" + bytes.length + " bytes, shorter than its preamble)");
        for (int i = 0; i < MAGIC.length; i++) {
            if (bytes[i] != MAGIC[i]) throw new BadFileException(source, "not a .npy file (wrong magic number)");
        }
        int major = bytes[6] & 0xff, minor = bytes[7] & 0xff;
        if (major < 1 || major > 3 || minor != 0) throw new BadFileException(source, "unsupported .npy version " + major + "." + minor + " (1.0 to 3.0 are read)");
        long headerLen;
        int start;
        if (major == 1) {
            headerLen = b.getShort(8) & 0xffff;
            start = 10;
        } else {
            if (bytes.length < 12) throw new BadFileException(source, "truncated .npy file (preamble of version " + major + ".0 needs 12 bytes)");
            headerLen = b.getInt(8) & 0xffffffffL;
            start = 12;
        }
        if (start + headerLen > bytes.length) {
            throw new BadFileException(source, "truncated .npy file: header of " + headerLen + " bytes, only " + (bytes.length - start) + " present");
        }
        String header = new String(bytes, start, (int) headerLen, major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1).strip();
        if (!header.startsWith("{") || !header.endsWith("}")) throw new BadFileException(source, "malformed .npy header (not a dict): " + abbreviate(header));
        Matcher d = DESCR.matcher(header), f = FORTRAN.matcher(header), s = SHAPE.matcher(header);
        if (!d.find() || !f.find() || !s.find()) throw new BadFileException(source, "malformed .npy header (needs descr, fortran_order and shape): " + abbreviate(header));
        ElementType type = ElementType.fromNpyCode(d.group(2));
        String order = d.group(1);
        if (type == null) throw new BadFileException(source, "unsupported .npy dtype '" + order + d.group(2) + "' (float32, float64, int64, int32, uint8 are read)");
        if (f.group(1).equals("True")) throw new BadFileException(source, "Fortran-order .npy arrays are not supported; save with numpy.ascontiguousarray");
        int[] shape = parseShape(s.group(1), source);
        long count = NdArray.numel(shape);
        long dataStart = start + headerLen;
        long expected = count * type.size();
        long present = bytes.length - dataStart;
        if (present != expected) {
            throw new BadFileException(source, "header claims " + count + " elements of " + type + " (" + expected
                    + " bytes) but " + present + " bytes of data follow" + (present < expected ? " (truncated file?)" : ""));
        }
        ByteBuffer data = ByteBuffer.wrap(bytes, (int) dataStart, (int) expected).slice();
        if (order.equals(">") && type.size() > 1) data = swapToLittle(data, type.size());
        return new NdArray(type, shape, data);
    }

    private static int[] parseShape(String text, String source) {
        List<Integer> dims = new ArrayList<>();
        long count = 1;
        for (String part : text.split(",")) {
            String p = part.strip();
            if (p.isEmpty()) continue;
            if (!p.matches("\\d{1,10}")) throw new BadFileException(source, "malformed .npy shape entry '" + abbreviate(p) + "'");
            long v = Long.parseLong(p);
            count *= Math.max(v, 1);
            if (v > Integer.MAX_VALUE || count > Integer.MAX_VALUE) {
                throw new BadFileException(source, "shape (" + abbreviate(text) + ") is too large: more than " + Integer.MAX_VALUE + " elements");
            }
            dims.add((int) v);
        }
        return dims.stream().mapToInt(Integer::intValue).toArray();
    }

    private static ByteBuffer swapToLittle(ByteBuffer big, int size) {
        byte[] out = new byte[big.remaining()];
        for (int i = 0; i < out.length; i += size) {
            for (int j = 0; j < size; j++) out[i + j] = big.get(big.position() + i + size - 1 - j);
        }
        return ByteBuffer.wrap(out);
    }

    static String abbreviate(String s) {
        String one = s.replaceAll("\\s+", " ");
        return one.length() <= 80 ? one : one.substring(0, 77) + "...";
    }

    /** The .npy bytes of an array (little-endian, C order). */
    public static byte[] toBytes(NdArray a) {
        StringBuilder shape = new StringBuilder("(");
        int[] dims = a.shape();
        for (int i = 0; i < dims.length; i++) shape.append(dims[i]).append(dims.length == 1 ? "," : i + 1 < dims.length ? ", " : "");
        shape.append(")");
        String dict = "{'descr': '" + a.type().npyDescr() + "', 'fortran_order': False, 'shape': " + shape + ", }";
        int major = dict.length() + 11 > 65535 ? 2 : 1;
        int preamble = major == 1 ? 10 : 12;
        int total = preamble + dict.length() + 1;
        int pad = (64 - total % 64) % 64;
        String header = dict + " ".repeat(pad) + "\n";
        byte[] h = header.getBytes(StandardCharsets.ISO_8859_1);
        ByteBuffer out = ByteBuffer.allocate(preamble + h.length + a.numel() * a.type().size()).order(ByteOrder.LITTLE_ENDIAN);
        out.put(MAGIC).put((byte) major).put((byte) 0);
        if (major == 1) out.putShort((short) h.length);
        else out.putInt(h.length);
        out.put(h).put(a.data());
        return out.array();
    }

    /** Writes atomically (temporary file, fsync, rename). */
    public static void write(Path file, NdArray a) throws IOException {
        AtomicFile.write(file, toBytes(a));
    }
}
