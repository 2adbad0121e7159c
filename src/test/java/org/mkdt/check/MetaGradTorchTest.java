package org.mkdt.check;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mkdt.backend.cpu.CpuBackend;
import org.mkdt.backend.cuda.CudaBackend;
import org.mkdt.io.NdArray;
import org.mkdt.io.SafeTensors;
import org.mkdt.testing.Cuda;
import org.mkdt.testing.Python;

/**
 * The exact meta-gradient against PyTorch's own: {@code check metagrad --export} writes the
 * problem and mkdt's results, {@code scripts/torch/check_metagrad.py} unrolls the same steps in
 * PyTorch float64 with create_graph=True and compares (1e-10 for float64, 1e-4 for float32).
 */
class MetaGradTorchTest {
    static final String SCRIPT = "scripts/torch/check_metagrad.py";

    @TempDir
    Path dir;

    @Test
    void cpuMetaGradientEqualsPyTorchsCreateGraphUnroll() throws Exception {
        String python = Python.assumeTorch();
        List<Path> files = MetaGradExport.export(dir, 6, 1, CpuBackend.INSTANCE);
        assertEquals(3, files.size(), files.toString());
        Python.Result r = Python.runScript(python, SCRIPT, dir.toString());
        assertEquals(0, r.exit(), r.out());
        assertTrue(r.out().matches("(?s).*cpu float64 .* ok.*"), r.out());
        assertTrue(r.out().matches("(?s).*cpu float32 .* ok.*"), r.out());
    }

    /** The comparison can fail: dL/dalpha off by one part in 10^8 is caught at float64's tolerance. */
    @Test
    void aPerturbedResultIsReported() throws Exception {
        String python = Python.assumeTorch();
        MetaGradExport.export(dir, 3, 2, CpuBackend.INSTANCE);
        Path f = dir.resolve("result_cpu_f64.safetensors");
        SafeTensors.Contents c = SafeTensors.read(f);
        Map<String, NdArray> tensors = new LinkedHashMap<>(c.tensors());
        double alpha = tensors.get("d_alpha").toDoubles()[0];
        tensors.put("d_alpha", NdArray.of(new double[] {alpha * (1 + 1e-8)}, 1));
        SafeTensors.write(f, tensors, c.metadata());
        Python.Result r = Python.runScript(python, SCRIPT, dir.toString());
        assertEquals(1, r.exit(), r.out());
        assertTrue(r.out().contains("FAIL") && r.out().contains("DIFFERS"), r.out());
    }

    @Test
    void aFolderWithoutTheExportIsAUsageError() throws Exception {
        String python = Python.assumeTorch();
        Python.Result r = Python.runScript(python, SCRIPT, dir.toString());
        assertEquals(2, r.exit(), r.out());
        assertTrue(r.out().contains("check metagrad --export"), r.out());
    }

    @Test
    @Tag("cuda")
    void cudaMetaGradientEqualsPyTorchs() throws Exception {
        CudaBackend cuda = Cuda.backendOrSkip();
        String python = Python.assumeTorch();
        List<Path> files = MetaGradExport.export(dir, 6, 1, cuda);
        assertEquals(4, files.size(), files.toString());
        Python.Result r = Python.runScript(python, SCRIPT, dir.toString());
        assertEquals(0, r.exit(), r.out());
        assertTrue(r.out().matches("(?s).*cuda float32 .* ok.*"), r.out());
    }
}
