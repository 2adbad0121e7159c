package org.mkdt.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import org.junit.jupiter.api.Test;
import org.mkdt.backend.cpu.CpuBackend;
import org.mkdt.tensor.Shape;
import org.mkdt.tensor.Tensor;

/** The real data set from Debian's dataset-fashion-mnist (.ci/run installs it). */
class FashionMnistTest {
    @Test
    void sixtyThousandTrainingAndTenThousandTestImagesPaddedTo32() {
        assumeTrue(Files.isDirectory(Datasets.FASHION_MNIST_DIR),
                "Debian's dataset-fashion-mnist is not installed (apt-get install dataset-fashion-mnist): real-data test skipped");
        Dataset ds = Datasets.load("fashion-mnist", null);
        assertEquals(60000, ds.train().count());
        assertEquals(10000, ds.test().count());
        assertEquals(10, ds.train().classes().size());
        assertArrayEquals(new int[] {6000, 6000, 6000, 6000, 6000, 6000, 6000, 6000, 6000, 6000}, ds.train().classCounts());
        assertEquals(Shape.of(60000, 1, 32, 32), ds.train().shape());
        // The 2-pixel border is zero: the first row of every image.
        for (int i = 0; i < 32; i++) assertEquals(0, ds.train().pixels()[i]);
        Tensor t = ds.test().subset(new int[] {0, 1}).toTensor(CpuBackend.INSTANCE, ds.normalization());
        assertEquals(Shape.of(2, 1, 32, 32), t.shape());
        assertEquals(-ds.normalization().mean()[0] / ds.normalization().std()[0], t.toDoubleArray()[0], 1e-6);
    }
}
