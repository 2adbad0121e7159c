package org.mkdt.backend.cuda;

import static jcuda.driver.JCudaDriver.*;

import java.io.InputStream;
import java.util.Properties;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUstream;
import jcuda.driver.CUstream_flags;
import jcuda.driver.JCudaDriver;

/**
 * Device 0 of the CUDA driver: its primary context and the one stream all of the backend's
 * work goes to. Opening it is a probe: where libcuda.so.1 or a device is missing, {@link #open()}
 * says why instead of throwing, so that "auto" can fall back to the CPU with a reason.
 *
 * <p>Contexts are per thread in the driver API: {@link #makeCurrent()} binds the primary context
 * to the calling thread (once per thread); every backend entry point calls it first.
 */
public final class CudaDevice {
    private static volatile Probe probe;
    private static CudaDevice instance;

    private final CUdevice device;
    private final CUcontext context;
    private final CUstream stream;
    private final ThreadLocal<Boolean> current = ThreadLocal.withInitial(() -> Boolean.FALSE);
    private final String name;
    private final long totalBytes;
    private final int major, minor, multiprocessors;

    /** What loading the driver and device 0 gave: a device, or the reason there is none. */
    public record Probe(CudaDevice device, String reason) {
        public boolean available() {
            return device != null;
        }
    }

    private CudaDevice() {
        JCudaDriver.setExceptionsEnabled(true);
        cuInit(0);
        int[] count = {0};
        cuDeviceGetCount(count);
        if (count[0] == 0) throw new IllegalStateException("the CUDA driver loaded but reports no device");
        device = new CUdevice();
        cuDeviceGet(device, 0);
        context = new CUcontext();
        cuDevicePrimaryCtxRetain(context, device);
        cuCtxSetCurrent(context);
        current.set(Boolean.TRUE);
        byte[] buf = new byte[256];
        cuDeviceGetName(buf, buf.length, device);
        int len = 0;
        while (len < buf.length && buf[len] != 0) len++;
        name = new String(buf, 0, len, java.nio.charset.StandardCharsets.US_ASCII);
        long[] total = {0};
        cuDeviceTotalMem(total, device);
        totalBytes = total[0];
        major = attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR);
        minor = attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR);
        multiprocessors = attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT);
        // Non-blocking: nothing else in the process (cuBLAS's own work goes to this stream too)
        // synchronises with the legacy default stream behind our back.
        stream = new CUstream();
        cuStreamCreate(stream, CUstream_flags.CU_STREAM_NON_BLOCKING);
    }

    /** Opens device 0 once per process; later calls return the same answer. Never throws. */
    public static Probe open() {
        Probe p = probe;
        if (p != null) return p;
        synchronized (CudaDevice.class) {
            if (probe == null) {
                try {
                    instance = new CudaDevice();
                    probe = new Probe(instance, null);
                } catch (UnsatisfiedLinkError e) {
                    probe = new Probe(null, "no CUDA driver (" + linkFailure(e) + ")");
                } catch (RuntimeException | LinkageError e) {
                    probe = new Probe(null, "no CUDA device (" + firstLine(String.valueOf(e.getMessage())) + ")");
                }
            }
            return probe;
        }
    }

    private static final java.util.regex.Pattern MISSING_LIBRARY =
            java.util.regex.Pattern.compile("(lib[\\w.+-]+\\.so[\\d.]*): cannot open shared object file");

    /**
     * The useful part of a native-library failure: JCuda's message is a page of nested stack
     * traces, and the line that matters names the system library that is missing.
     */
    static String linkFailure(Throwable e) {
        String m = String.valueOf(e.getMessage());
        java.util.regex.Matcher missing = MISSING_LIBRARY.matcher(m);
        return missing.find() ? missing.group(1) + " not found" : firstLine(m);
    }

    private static String firstLine(String s) {
        if (s == null) return "unknown error";
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    /** Binds the primary context to the calling thread (a no-op after the first call per thread). */
    public void makeCurrent() {
        if (!current.get()) {
            cuCtxSetCurrent(context);
            current.set(Boolean.TRUE);
        }
    }

    /** Waits until every queued kernel and copy has finished (and surfaces asynchronous errors). */
    public void synchronize() {
        makeCurrent();
        cuStreamSynchronize(stream);
    }

    CUstream stream() {
        return stream;
    }

    public String name() {
        return name;
    }

    public long totalBytes() {
        return totalBytes;
    }

    /** Bytes the driver reports free right now. */
    public long freeBytes() {
        makeCurrent();
        long[] free = {0}, total = {0};
        cuMemGetInfo(free, total);
        return free[0];
    }

    public String computeCapability() {
        return major + "." + minor;
    }

    public int multiprocessors() {
        return multiprocessors;
    }

    /** The driver's CUDA version, e.g. "13.0". */
    public static String driverVersion() {
        int[] v = {0};
        cuDriverGetVersion(v);
        return (v[0] / 1000) + "." + (v[0] % 1000) / 10;
    }

    private int attribute(int which) {
        int[] v = {0};
        cuDeviceGetAttribute(v, which, device);
        return v[0];
    }

    /** The JCuda version on the class path (from its Maven metadata; loads no native code). */
    public static String jcudaVersion() {
        try (InputStream in = JCudaDriver.class.getResourceAsStream("/META-INF/maven/org.jcuda/jcuda/pom.properties")) {
            if (in == null) return "unknown";
            Properties p = new Properties();
            p.load(in);
            return p.getProperty("version", "unknown");
        } catch (java.io.IOException e) {
            return "unknown";
        }
    }
}
