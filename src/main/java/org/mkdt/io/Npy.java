package org.mkdt.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

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
        String header = new String(bytes, start, (int) headerLen, major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        Header h = Header.parse(header, source);
        ElementType type = h.type;
        int[] shape = h.shape;
        long count = NdArray.numel(shape);
        long dataStart = start + headerLen;
        long expected = count * type.size();
        long present = bytes.length - dataStart;
        if (present != expected) {
            throw new BadFileException(source, "header claims " + count + " elements of " + type + " (" + expected
                    + " bytes) but " + present + " bytes of data follow" + (present < expected ? " (truncated file?)" : ""));
        }
        ByteBuffer data = ByteBuffer.wrap(bytes, (int) dataStart, (int) expected).slice();
        if (h.bigEndian) data = swapToLittle(data, type.size());
        return new NdArray(type, shape, data);
    }

    /**
     * The header dict, parsed strictly: exactly the keys 'descr', 'fortran_order' and 'shape',
     * each once, with Python literal values, nothing else but spaces and commas between them.
     */
    private static final class Header {
        ElementType type;
        boolean bigEndian;
        Boolean fortran;
        int[] shape;
        private final String text;
        private final String source;
        private int pos;

        private Header(String text, String source) {
            this.text = text;
            this.source = source;
        }

        static Header parse(String text, String source) {
            Header h = new Header(text, source);
            h.dict();
            if (h.type == null || h.fortran == null || h.shape == null) throw h.bad("needs 'descr', 'fortran_order' and 'shape'");
            if (h.fortran) throw new BadFileException(source, "Fortran-order .npy arrays are not supported; save with numpy.ascontiguousarray");
            NdArray.checkShape(h.shape, source, "");
            return h;
        }

        private BadFileException bad(String why) {
            return new BadFileException(source, "malformed .npy header (" + why + "): " + abbreviate(text));
        }

        private void ws() {
            while (pos < text.length() && Character.isWhitespace(text.charAt(pos))) pos++;
        }

        private boolean eat(char c) {
            ws();
            if (pos < text.length() && text.charAt(pos) == c) {
                pos++;
                return true;
            }
            return false;
        }

        private String quoted() {
            ws();
            if (pos >= text.length() || (text.charAt(pos) != '\'' && text.charAt(pos) != '"')) throw bad("expected a quoted string at " + pos);
            char q = text.charAt(pos);
            int end = text.indexOf(q, pos + 1);
            if (end < 0) throw bad("unterminated string");
            String v = text.substring(pos + 1, end);
            pos = end + 1;
            return v;
        }

        private void dict() {
            if (!eat('{')) throw bad("not a dict");
            while (!eat('}')) {
                String key = quoted();
                if (!eat(':')) throw bad("expected ':' after '" + key + "'");
                switch (key) {
                    case "descr" -> {
                        if (type != null) throw bad("'descr' given twice");
                        descr(quoted());
                    }
                    case "fortran_order" -> {
                        if (fortran != null) throw bad("'fortran_order' given twice");
                        ws();
                        if (text.startsWith("True", pos)) fortran = true;
                        else if (text.startsWith("False", pos)) fortran = false;
                        else throw bad("fortran_order must be True or False");
                        pos += fortran ? 4 : 5;
                    }
                    case "shape" -> {
                        if (shape != null) throw bad("'shape' given twice");
                        shape = tuple();
                    }
                    default -> throw bad("unexpected key '" + key + "'");
                }
                if (!eat(',')) {
                    if (!eat('}')) throw bad("expected ',' or '}'");
                    break;
                }
            }
            ws();
            if (pos != text.length()) throw bad("text after the dict");
        }

        private void descr(String d) {
            char order = d.isEmpty() ? ' ' : d.charAt(0);
            String code = "<>|=".indexOf(order) >= 0 ? d.substring(1) : d;
            type = ElementType.fromNpyCode(code);
            if (type == null) {
                throw new BadFileException(source, "unsupported .npy dtype '" + d + "' (float32, float64, int64, int32, uint8 are read)");
            }
            if (order == '|' && type.size() > 1) throw bad("byte order '|' is only valid for single-byte types, got '" + d + "'");
            bigEndian = order == '>';
        }

        private int[] tuple() {
            if (!eat('(')) throw bad("shape must be a tuple");
            List<Integer> dims = new ArrayList<>();
            boolean trailingComma = false;
            while (!eat(')')) {
                ws();
                int begin = pos;
                while (pos < text.length() && Character.isDigit(text.charAt(pos))) pos++;
                String digits = text.substring(begin, pos);
                if (digits.isEmpty() || digits.length() > 10) throw bad("bad shape entry at " + begin);
                long v = Long.parseLong(digits);
                if (v > Integer.MAX_VALUE) throw new BadFileException(source, "shape entry " + v + " is too large: more than " + Integer.MAX_VALUE + " elements");
                dims.add((int) v);
                trailingComma = eat(',');
                if (!trailingComma) {
                    if (!eat(')')) throw bad("expected ',' or ')' in shape");
                    break;
                }
            }
            if (dims.size() == 1 && !trailingComma) throw bad("a 1-tuple needs a trailing comma, as (n,)");
            return dims.stream().mapToInt(Integer::intValue).toArray();
        }
    }

    private static ByteBuffer swapToLittle(ByteBuffer big, int size) {
        byte[] out = new byte[big.remaining()];
        for (int i = 0; i < out.length; i += size) {
            for (int j = 0; j < size; j++) out[i + j] = big.get(big.position() + i + size - 1 - j);
        }
        return ByteBuffer.wrap(out);
    }

    static String abbreviate(String s) {
        String cut = s.length() > 200 ? s.substring(0, 200) : s;
        String one = cut.replaceAll("\\s+", " ").strip();
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
        int headerEnd = preamble + dict.length() + 1;
        int pad = (64 - headerEnd % 64) % 64;
        String header = dict + " ".repeat(pad) + "\n";
        byte[] h = header.getBytes(StandardCharsets.ISO_8859_1);
        long fileBytes = (long) preamble + h.length + (long) a.numel() * a.type().size();
        if (fileBytes > Files2.MAX_FILE_BYTES) throw new IllegalArgumentException(".npy file of " + fileBytes + " bytes exceeds the 2 GiB this writer handles");
        ByteBuffer out = ByteBuffer.allocate((int) fileBytes).order(ByteOrder.LITTLE_ENDIAN);
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
