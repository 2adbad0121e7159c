package org.mkdt.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mkdt.check.OpCase.in;

import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.mkdt.check.DeviceCheck;
import org.mkdt.check.OpCase;
import org.mkdt.check.OpCatalog;
import org.mkdt.nn.ConvNet;
import org.mkdt.tensor.DType;
import org.mkdt.testing.Cuda;

/**
 * First- and second-order gradients on CUDA (float32) against the CPU (float64): every op of the
 * gradient-check catalogue, and the MKDT student itself at its real width and image size.
 */
@Tag("cuda")
class CudaGradientsTest {
    private static CudaBackend cuda;

    @BeforeEach
    void device() {
        cuda = Cuda.backendOrSkip();
    }

    @Test
    void everyOpAgreesWithTheCpu() {
        StringBuilder failed = new StringBuilder();
        for (OpCase c : OpCatalog.all()) {
            DeviceCheck.Result r = DeviceCheck.check(c, cuda, DType.F32, 5);
            if (!r.passed()) {
                failed.append(String.format("%n  %s: value %.2e, first %.2e, second %.2e", r.name(), r.valueError(), r.firstOrderError(), r.secondOrderError()));
            }
        }
        assertTrue(failed.length() == 0, "ops beyond " + DeviceCheck.TOLERANCE + " on CUDA:" + failed);
    }

    @Test
    void mkdtStudentGradientsAndSecondOrderTermAgree() {
        ConvNet net = ConvNet.mkdtStudent(3, 512);
        OpCase student = new OpCase("MKDT student (theta, x)", List.of(in(net.numParams()), in(4, 3, 32, 32)),
                x -> net.forward(x.get(0), x.get(1)));
        DeviceCheck.Result r = DeviceCheck.check(student, cuda, DType.F32, 7);
        assertTrue(r.passed(), String.format("MKDT student on CUDA: value %.2e, first order %.2e, second order %.2e (tolerance %.0e)",
                r.valueError(), r.firstOrderError(), r.secondOrderError(), DeviceCheck.TOLERANCE));
    }
}
