package org.mkdt.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The safetensors format: an 8-byte little-endian header length N, N bytes of JSON
 * ({name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {string: string}}),
 * then the raw little-endian data, which the tensors must cover exactly, without holes or
 * overlaps. Readable by the safetensors library and, as the tests show, by plain numpy.
 */
public final class SafeTensors {
    /** The format's own limit on the JSON header. */
    public static final long MAX_HEADER_BYTES = 100L << 20;
    /** Strict: a duplicate key or text after the header object is an error, not ignored. */
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(com.fasterxml.jackson.core.JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    /** Named arrays (in file order) and string metadata. */
    public record Contents(Map<String, NdArray> tensors, Map<String, String> metadata) {
        public Contents {
            tensors = Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
            metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
        }
    }

    private SafeTensors() {}

    public static Contents read(Path file) {
        return read(Files2.readAll(file), file.toString());
    }

    public static Contents read(byte[] bytes, String source) {
        if (bytes.length < 8) throw new BadFileException(source, "truncated safetensors file (" + bytes.length + " bytes, shorter than the 8-byte header length)");
        long n = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        if (n < 2 || n > MAX_HEADER_BYTES) throw new BadFileException(source, "not a safetensors file (header length " + Long.toUnsignedString(n) + " is implausible)");
        if (n > bytes.length - 8L) throw new BadFileException(source, "truncated safetensors file: header of " + n + " bytes, only " + (bytes.length - 8) + " present");
        JsonNode header;
        try {
            header = JSON.readTree(new String(bytes, 8, (int) n, StandardCharsets.UTF_8));
        } catch (JsonProcessingException e) {
            throw new BadFileException(source, "malformed safetensors header (invalid JSON: " + Npy.abbreviate(String.valueOf(e.getOriginalMessage())) + ")");
        }
        if (header == null || !header.isObject()) throw new BadFileException(source, "malformed safetensors header (not a JSON object)");
        int dataStart = 8 + (int) n;
        long dataLen = bytes.length - (long) dataStart;
        Map<String, String> metadata = new LinkedHashMap<>();
        List<Object[]> entries = new ArrayList<>(); // {name, type, shape, begin, end}
        Iterator<Map.Entry<String, JsonNode>> fields = header.fields();
        while (fields.hasNext()) {
            Map.Entry<String, JsonNode> f = fields.next();
            if (f.getKey().equals("__metadata__")) {
                if (!f.getValue().isObject()) throw new BadFileException(source, "__metadata__ must be a JSON object of strings");
                Iterator<Map.Entry<String, JsonNode>> m = f.getValue().fields();
                while (m.hasNext()) {
                    Map.Entry<String, JsonNode> e = m.next();
                    if (!e.getValue().isTextual()) throw new BadFileException(source, "__metadata__ value of '" + e.getKey() + "' is not a string");
                    metadata.put(e.getKey(), e.getValue().asText());
                }
                continue;
            }
            entries.add(entry(f.getKey(), f.getValue(), dataLen, source));
        }
        // The data must be covered exactly: sort by begin, then check contiguity and the end.
        List<Object[]> byOffset = new ArrayList<>(entries);
        byOffset.sort((a, b) -> (long) a[3] != (long) b[3] ? Long.compare((long) a[3], (long) b[3]) : Long.compare((long) a[4], (long) b[4]));
        long at = 0;
        for (Object[] e : byOffset) {
            if ((long) e[3] != at) throw new BadFileException(source, "tensor '" + e[0] + "' starts at byte " + e[3] + ", expected " + at + " (hole or overlap in the data)");
            at = (long) e[4];
        }
        if (at != dataLen) throw new BadFileException(source, "tensors cover " + at + " bytes of data but " + dataLen + " follow the header" + (at > dataLen ? " (truncated file?)" : ""));
        String recorded = metadata.get(CHECKSUM_KEY);
        if (recorded != null) {
            String actual = hex(sha256(bytes, dataStart, bytes.length - dataStart));
            if (!actual.equals(recorded)) {
                throw new BadFileException(source, "tensor data fails its SHA-256 check (" + CHECKSUM_KEY + " " + Npy.abbreviate(recorded)
                        + ", data hashes to " + actual + "): the file is corrupted or was edited");
            }
        }
        Map<String, NdArray> tensors = new LinkedHashMap<>();
        for (Object[] e : entries) {
            long begin = (long) e[3], end = (long) e[4];
            tensors.put((String) e[0], new NdArray((ElementType) e[1], (int[]) e[2], ByteBuffer.wrap(bytes, dataStart + (int) begin, (int) (end - begin))));
        }
        return new Contents(tensors, metadata);
    }

    private static Object[] entry(String name, JsonNode v, long dataLen, String source) {
        if (!v.isObject()) throw new BadFileException(source, "entry '" + name + "' is not a JSON object");
        JsonNode dtype = v.get("dtype"), shape = v.get("shape"), offsets = v.get("data_offsets");
        if (dtype == null || !dtype.isTextual()) throw new BadFileException(source, "tensor '" + name + "' has no dtype");
        ElementType type = ElementType.fromSafetensorsName(dtype.asText());
        if (type == null) throw new BadFileException(source, "tensor '" + name + "' has unsupported dtype " + Npy.abbreviate(dtype.asText()) + " (F32, F64, I64, I32, U8 are read)");
        if (shape == null || !shape.isArray()) throw new BadFileException(source, "tensor '" + name + "' has no shape");
        int[] dims = new int[shape.size()];
        for (int i = 0; i < dims.length; i++) {
            JsonNode d = shape.get(i);
            if (!d.isIntegralNumber() || !d.canConvertToLong() || d.asLong() < 0 || d.asLong() > Integer.MAX_VALUE) {
                throw new BadFileException(source, "tensor '" + name + "' has a bad shape entry " + Npy.abbreviate(String.valueOf(d)));
            }
            dims[i] = (int) d.asLong();
        }
        NdArray.checkShape(dims, source, "tensor '" + name + "': ");
        long count = NdArray.numel(dims);
        if (offsets == null || !offsets.isArray() || offsets.size() != 2 || !offsets.get(0).isIntegralNumber() || !offsets.get(1).isIntegralNumber()
                || !offsets.get(0).canConvertToLong() || !offsets.get(1).canConvertToLong()) {
            throw new BadFileException(source, "tensor '" + name + "' has no valid data_offsets [begin, end]");
        }
        long begin = offsets.get(0).asLong(), end = offsets.get(1).asLong();
        if (begin < 0 || end < begin || end > dataLen) {
            throw new BadFileException(source, "tensor '" + name + "' data_offsets [" + begin + ", " + end + "] fall outside the " + dataLen + " bytes of data (truncated file?)");
        }
        if (end - begin != count * type.size()) {
            throw new BadFileException(source, "tensor '" + name + "' of shape " + shape + " and dtype " + type + " needs " + count * type.size()
                    + " bytes, its data_offsets span " + (end - begin));
        }
        return new Object[] {name, type, dims, begin, end};
    }

    /**
     * The metadata key holding the SHA-256 (hex) of all tensor bytes, in file order: written by
     * {@link #toBytes}, verified by {@link #read} wherever present (files from elsewhere may lack it).
     */
    public static final String CHECKSUM_KEY = "tensors_sha256";

    /** SHA-256 (hex) of the arrays' bytes, one after another, as {@link #toBytes} lays them out. */
    public static String checksum(java.util.Collection<NdArray> arrays) {
        java.security.MessageDigest md = digest();
        for (NdArray a : arrays) md.update(a.data());
        return hex(md.digest());
    }

    private static byte[] sha256(byte[] bytes, int off, int len) {
        java.security.MessageDigest md = digest();
        md.update(bytes, off, len);
        return md.digest();
    }

    private static java.security.MessageDigest digest() {
        try {
            return java.security.MessageDigest.getInstance("SHA-256");
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String hex(byte[] b) {
        return java.util.HexFormat.of().formatHex(b);
    }

    /** The safetensors bytes for named arrays (written in the map's order) and metadata. */
    public static byte[] toBytes(Map<String, NdArray> tensors, Map<String, String> metadata) {
        ObjectNode header = JSON.createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode meta = header.putObject("__metadata__");
            metadata.forEach(meta::put);
        }
        long offset = 0;
        for (Map.Entry<String, NdArray> e : tensors.entrySet()) {
            if (e.getKey().equals("__metadata__")) throw new IllegalArgumentException("'__metadata__' is reserved in safetensors");
            NdArray a = e.getValue();
            ObjectNode t = header.putObject(e.getKey());
            t.put("dtype", a.type().safetensorsName());
            ArrayNode shape = t.putArray("shape");
            for (int d : a.shape()) shape.add(d);
            long size = (long) a.numel() * a.type().size();
            t.putArray("data_offsets").add(offset).add(offset + size);
            offset += size;
        }
        ObjectNode m = header.has("__metadata__") ? (ObjectNode) header.get("__metadata__") : header.putObject("__metadata__");
        m.put(CHECKSUM_KEY, checksum(tensors.values()));
        byte[] json;
        try {
            json = JSON.writeValueAsString(header).getBytes(StandardCharsets.UTF_8);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        int pad = (8 - json.length % 8) % 8; // align the data to 8 bytes, padding with spaces
        long total = 8L + json.length + pad + offset;
        if (total > Files2.MAX_FILE_BYTES) throw new IllegalArgumentException("safetensors file of " + total + " bytes exceeds the 2 GiB this writer handles");
        ByteBuffer out = ByteBuffer.allocate((int) total).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(json.length + pad).put(json);
        for (int i = 0; i < pad; i++) out.put((byte) ' ');
        for (NdArray a : tensors.values()) out.put(a.data());
        return out.array();
    }

    /** Writes atomically (temporary file, fsync, rename). */
    public static void write(Path file, Map<String, NdArray> tensors, Map<String, String> metadata) throws IOException {
        AtomicFile.write(file, toBytes(tensors, metadata));
    }
}
