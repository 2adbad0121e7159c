package org.mkdt.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.commons.rng.UniformRandomProvider;
import org.apache.commons.rng.sampling.distribution.ZigguratSampler;
import org.apache.commons.rng.simple.RandomSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mkdt.io.NdArray;
import org.mkdt.io.Npy;
import org.mkdt.testing.Python;

/**
 * {@link TorchLbfgs} is PyTorch's torch.optim.LBFGS with its defaults: the same iterates on the
 * same problem (the reference's probe objective, float64, on features of two scales), checked
 * against PyTorch itself where it is installed; and that on a well-posed problem it reaches the
 * converged probe's optimum.
 */
class TorchLbfgsTest {
    static final int K = 3, F = 5;

    /** Gaussian blobs in F dimensions, class k's centre at 2 e_k, features times {@code scale}. */
    static double[][] blobs(int n, double scale, long seed) {
        UniformRandomProvider rng = RandomSource.XO_RO_SHI_RO_128_PP.create(seed);
        ZigguratSampler.NormalizedGaussian g = ZigguratSampler.NormalizedGaussian.of(rng);
        double[] x = new double[n * F], y = new double[n];
        for (int i = 0; i < n; i++) {
            y[i] = i % K;
            for (int j = 0; j < F; j++) x[i * F + j] = scale * (g.sample() + (j == y[i] ? 2 : 0));
        }
        return new double[][] {x, y};
    }

    /** Mean cross-entropy of softmax(x W^T + b) plus l2 * ||W||^2 and its gradient; p = [W (K x F), b (K)]. */
    static Lbfgs.Objective probe(double[] x, double[] y, double l2) {
        int n = y.length;
        return (p, grad) -> {
            java.util.Arrays.fill(grad, 0);
            double loss = 0;
            for (int i = 0; i < n; i++) {
                double[] z = new double[K];
                double max = Double.NEGATIVE_INFINITY;
                for (int k = 0; k < K; k++) {
                    z[k] = p[K * F + k];
                    for (int j = 0; j < F; j++) z[k] += p[k * F + j] * x[i * F + j];
                    max = Math.max(max, z[k]);
                }
                double sum = 0;
                for (int k = 0; k < K; k++) sum += Math.exp(z[k] - max);
                int label = (int) y[i];
                loss += (Math.log(sum) + max - z[label]) / n;
                for (int k = 0; k < K; k++) {
                    double d = (Math.exp(z[k] - max) / sum - (k == label ? 1 : 0)) / n;
                    for (int j = 0; j < F; j++) grad[k * F + j] += d * x[i * F + j];
                    grad[K * F + k] += d;
                }
            }
            for (int i = 0; i < K * F; i++) {
                loss += l2 * p[i] * p[i];
                grad[i] += 2 * l2 * p[i];
            }
            return loss;
        };
    }

    static double[] start(long seed) {
        UniformRandomProvider rng = RandomSource.XO_RO_SHI_RO_128_PP.create(seed);
        double[] p = new double[K * F + K];
        for (int i = 0; i < p.length; i++) p[i] = (2 * rng.nextDouble() - 1) / Math.sqrt(F);
        return p;
    }

    @Test
    void sameIteratesAsPyTorch(@TempDir Path dir) throws Exception {
        String python = Python.assumeTorch();
        double[] scales = {1.0, 30.0};
        int[] steps = {1, 3};
        double[] p0 = start(4);
        Npy.write(dir.resolve("p0.npy"), NdArray.of(p0, p0.length));
        for (int a = 0; a < scales.length; a++) {
            double[][] d = blobs(60, scales[a], 3);
            Npy.write(dir.resolve("x" + a + ".npy"), NdArray.of(d[0], 60, F));
            Npy.write(dir.resolve("y" + a + ".npy"), NdArray.of(d[1], 60));
        }
        // One interpreter start for all cases (importing torch is the slow part).
        Python.Result r = Python.runWith(python, """
                import sys, numpy as np, torch
                d, K, F = sys.argv[1], 3, 5
                p0 = torch.from_numpy(np.load(d + '/p0.npy'))
                for a in range(2):
                    x = torch.from_numpy(np.load(d + f'/x{a}.npy')); y = torch.from_numpy(np.load(d + f'/y{a}.npy')).long()
                    for steps in (1, 3):
                        clf = torch.nn.Linear(F, K).double()
                        with torch.no_grad():
                            clf.weight.copy_(p0[:K * F].view(K, F)); clf.bias.copy_(p0[K * F:])
                        opt = torch.optim.LBFGS(clf.parameters())
                        def closure():
                            opt.zero_grad()
                            loss = torch.nn.functional.cross_entropy(clf(x), y) + 1e-3 * clf.weight.pow(2).sum()
                            loss.backward()
                            return loss
                        for _ in range(steps):
                            opt.step(closure)
                        np.save(d + f'/p{a}_{steps}.npy', torch.cat([clf.weight.detach().flatten(), clf.bias.detach()]).numpy())
                """, dir.toString());
        assertEquals(0, r.exit(), r.out());
        for (int a = 0; a < scales.length; a++) {
            double[][] d = blobs(60, scales[a], 3);
            for (int n : steps) {
                double[] ours = TorchLbfgs.minimize(probe(d[0], d[1], 1e-3), p0, n).x();
                double[] theirs = Npy.read(dir.resolve("p" + a + "_" + n + ".npy")).toDoubles();
                for (int i = 0; i < ours.length; i++) {
                    assertEquals(theirs[i], ours[i], 1e-8 * (1 + Math.abs(theirs[i])), "parameter " + i + " after " + n + " step() calls, features x" + scales[a]);
                }
            }
        }
    }

    @Test
    void convergesOnWellScaledFeatures() {
        double[][] d = blobs(60, 1.0, 3);
        Lbfgs.Objective f = probe(d[0], d[1], 1e-3);
        double[] g = new double[K * F + K];
        double start = f.valueAndGradient(start(4), g);
        TorchLbfgs.Result r = TorchLbfgs.minimize(f, start(4), TorchLbfgs.REFERENCE_STEPS);
        assertTrue(r.value() < 0.5 * start, r.value() + " from " + start);
        double best = new Lbfgs(10, 500, 1e-9).minimize(f, start(4)).value();
        assertEquals(best, r.value(), 1e-6);
    }
}
