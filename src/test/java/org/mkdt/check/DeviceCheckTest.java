package org.mkdt.check;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.mkdt.backend.cpu.CpuBackend;
import org.mkdt.tensor.DType;

/**
 * The device check's own test on the CPU: the CPU backend in float32 plays the device. Every
 * op's value and both derivative orders agree with float64 within the tolerance, which shows
 * the tolerance is reachable by correct float32 kernels (the CUDA run uses the same bar).
 */
class DeviceCheckTest {
    @Test
    void cpuFloat32AgreesWithFloat64OnEveryOp() {
        CpuBackend cpu = new CpuBackend();
        StringBuilder worst = new StringBuilder();
        boolean ok = true;
        double max = 0;
        for (OpCase c : OpCatalog.all()) {
            DeviceCheck.Result r = DeviceCheck.check(c, cpu, DType.F32, 3);
            max = Math.max(max, Math.max(r.valueError(), Math.max(r.firstOrderError(), r.secondOrderError())));
            if (!r.passed()) {
                ok = false;
                worst.append(String.format("%n  %s: value %.2e, first %.2e, second %.2e", r.name(), r.valueError(), r.firstOrderError(), r.secondOrderError()));
            }
        }
        assertTrue(ok, "ops beyond " + DeviceCheck.TOLERANCE + ":" + worst);
        assertTrue(max > 0, "float32 and float64 agreed bit for bit everywhere: the comparison is not comparing");
    }
}
