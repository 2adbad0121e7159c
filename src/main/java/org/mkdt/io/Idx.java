package org.mkdt.io;

import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * The IDX format of (Fashion-)MNIST, plain or gzipped: two zero bytes, a type byte (only 0x08,
 * unsigned bytes, is read), the number of dimensions, each dimension as a big-endian int32,
 * then the data. The element count is checked against the data before anything is allocated;
 * for gzipped files against what the compressed size can possibly hold (deflate expands at
 * most about 1032 to 1).
 */
public final class Idx {
    /** Deflate's maximum expansion, rounded up. */
    private static final long MAX_GZIP_RATIO = 1100;

    private Idx() {}

    public static NdArray read(Path file) {
        return read(Files2.readAll(file), file.toString());
    }

    public static NdArray read(byte[] bytes, String source) {
        boolean gz = bytes.length >= 2 && (bytes[0] & 0xff) == 0x1f && (bytes[1] & 0xff) == 0x8b;
        try (InputStream raw = gz ? new GZIPInputStream(new ByteArrayInputStream(bytes)) : new ByteArrayInputStream(bytes);
             DataInputStream in = new DataInputStream(raw)) {
            int z0 = in.read(), z1 = in.read(), type = in.read(), ndim = in.read();
            if (ndim < 0) throw new BadFileException(source, "truncated IDX file (shorter than its 4-byte magic number)");
            if (z0 != 0 || z1 != 0) throw new BadFileException(source, "not an IDX file (wrong magic number)");
            if (type != 0x08) throw new BadFileException(source, String.format("unsupported IDX element type 0x%02x (only 0x08, unsigned bytes, is read)", type));
            if (ndim < 1 || ndim > 8) throw new BadFileException(source, "IDX file with " + ndim + " dimensions (1 to 8 are read)");
            int[] dims = new int[ndim];
            for (int i = 0; i < ndim; i++) dims[i] = in.readInt();
            NdArray.checkShape(dims, source, "IDX header: ");
            long count = NdArray.numel(dims);
            long available = gz ? MAX_GZIP_RATIO * bytes.length : bytes.length - 4L - 4L * ndim;
            if (count > available) {
                throw new BadFileException(source, "IDX header claims " + count + " elements but the file " + (gz ? "cannot hold that many (" + bytes.length + " compressed bytes)" : "has " + available + " bytes of data (truncated file?)"));
            }
            // readNBytes grows with the data actually there: a gzip bomb's claim costs nothing.
            byte[] data = in.readNBytes((int) count);
            if (data.length < count) throw new EOFException();
            if (in.read() != -1) throw new BadFileException(source, "IDX file has data beyond the " + count + " elements its header claims");
            return new NdArray(ElementType.U8, dims, ByteBuffer.wrap(data));
        } catch (EOFException e) {
            throw new BadFileException(source, "truncated IDX file (data ends before the elements its header claims)");
        } catch (ZipException e) {
            throw new BadFileException(source, "corrupt gzip data: " + e.getMessage());
        } catch (IOException e) {
            throw new BadFileException(source, "cannot read: " + e.getMessage(), e);
        }
    }

    /** IDX bytes (uncompressed) for a uint8 array: the inverse of {@link #read}, for tests and tools. */
    public static byte[] toBytes(NdArray a) {
        if (a.type() != ElementType.U8) throw new IllegalArgumentException("IDX writes unsigned bytes only, got " + a.type());
        int[] dims = a.shape();
        ByteBuffer out = ByteBuffer.allocate(4 + 4 * dims.length + a.numel());
        out.put((byte) 0).put((byte) 0).put((byte) 0x08).put((byte) dims.length);
        for (int d : dims) out.putInt(d);
        out.put(a.data());
        return out.array();
    }
}
