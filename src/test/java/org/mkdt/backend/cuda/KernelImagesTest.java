package org.mkdt.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The committed kernel images match their sources: every kernels/STEM.cu has a fatbin on the
 * class path, and SOURCES.sha256 records the hash of the .cu (with the kernels/*.cuh headers) it was built from. A kernel edited
 * without running scripts/build-kernels.sh (on a machine without nvcc) fails here, not on a GPU.
 */
class KernelImagesTest {
    @Test
    void everyKernelSourceHasAnUpToDateImage() throws Exception {
        Map<String, String> recorded = new HashMap<>();
        try (InputStream in = KernelImagesTest.class.getResourceAsStream("/org/mkdt/kernels/SOURCES.sha256")) {
            assertNotNull(in, "SOURCES.sha256 missing from the class path");
            for (String line : new String(in.readAllBytes(), java.nio.charset.StandardCharsets.US_ASCII).split("\n")) {
                if (line.isBlank()) continue;
                String[] p = line.trim().split("\\s+");
                recorded.put(p[1], p[0]);
            }
        }
        List<Path> sources, headers;
        try (Stream<Path> s = Files.list(Path.of("kernels"))) {
            sources = s.filter(p -> p.toString().endsWith(".cu")).sorted().toList();
        }
        try (Stream<Path> s = Files.list(Path.of("kernels"))) {
            headers = s.filter(p -> p.toString().endsWith(".cuh")).sorted().toList();
        }
        assertEquals(CudaBackend.KERNEL_FAMILIES.size(), sources.size(), "kernel families loaded by CudaBackend vs kernels/*.cu: " + sources);
        for (Path cu : sources) {
            String name = cu.getFileName().toString();
            String stem = name.substring(0, name.length() - 3);
            assertTrue(CudaBackend.KERNEL_FAMILIES.contains(stem), name + " is not loaded by CudaBackend");
            assertNotNull(KernelImagesTest.class.getResource("/org/mkdt/kernels/" + stem + ".fatbin"), stem + ".fatbin missing");
            // The .cu and then every header, as scripts/build-kernels.sh hashes them.
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            md.update(Files.readAllBytes(cu));
            for (Path h : headers) md.update(Files.readAllBytes(h));
            String sha = HexFormat.of().formatHex(md.digest());
            assertEquals(sha, recorded.get(name), name + " changed since its image was built: run scripts/build-kernels.sh");
        }
    }
}
