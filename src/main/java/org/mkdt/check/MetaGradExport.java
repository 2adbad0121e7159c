package org.mkdt.check;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.mkdt.backend.Backend;
import org.mkdt.backend.cpu.CpuBackend;
import org.mkdt.data.Artefacts;
import org.mkdt.io.NdArray;
import org.mkdt.io.SafeTensors;
import org.mkdt.metagrad.MatchingProblem;
import org.mkdt.metagrad.MetaGradResult;
import org.mkdt.metagrad.MinibatchSchedule;
import org.mkdt.metagrad.RecomputeMetaGrad;
import org.mkdt.metagrad.ToyProblem;
import org.mkdt.nn.ConvNet;
import org.mkdt.ops.InstanceNorm;
import org.mkdt.tensor.DType;
import org.mkdt.tensor.Scope;
import org.mkdt.tensor.Tensor;

/**
 * {@code check metagrad --export DIR}: the seeded matching problem of {@link MetaGradCheck}
 * and mkdt's exact meta-gradient of it, as files another framework can recompute.
 * {@code scripts/torch/check_metagrad.py DIR} runs the same N SGD steps in PyTorch float64
 * with {@code create_graph=True} and compares.
 *
 * <p>{@code problem.safetensors} (float64): {@code images} (M, C, S, S), {@code targets} (M, D),
 * {@code theta0} and {@code theta_star} (P), {@code alpha} (1), {@code batches} (N, b) int32, row k
 * the images of step k, padded with -1 where a step's minibatch is shorter; metadata {@code net}
 * (the student's constructor arguments and instance-norm eps, JSON) and {@code layout}.
 * One {@code result_BACKEND_DTYPE.safetensors} per computation: {@code loss} (1), {@code d_images},
 * {@code d_targets}, {@code d_alpha} (1), all float64. The float32 computations run on the same
 * problem rounded to float32.
 */
public final class MetaGradExport {
    public static final String PROBLEM_FILE = "problem.safetensors";

    private MetaGradExport() {}

    /**
     * Writes the problem and the results of cpu float64, cpu float32 and, when {@code device} is
     * not the CPU, {@code device} float32; returns the files written, problem first.
     */
    public static List<Path> export(Path dir, int steps, long seed, Backend device) throws IOException {
        Files.createDirectories(dir);
        CpuBackend cpu = new CpuBackend();
        List<Path> written = new ArrayList<>();
        String madeBy = "mkdt check metagrad --export (toy problem, N = " + steps + ", seed " + seed + ")";
        try (Scope s = Scope.open()) {
            MatchingProblem p = ToyProblem.create(cpu, DType.F64, steps, seed);
            Map<String, NdArray> problem = new LinkedHashMap<>();
            problem.put("images", NdArray.of(p.images()));
            problem.put("targets", NdArray.of(p.targets()));
            problem.put("theta0", NdArray.of(p.theta0()));
            problem.put("theta_star", NdArray.of(p.thetaStar()));
            problem.put("alpha", NdArray.of(new double[] {p.alpha()}, 1));
            problem.put("batches", batches(p.schedules().get(0)));
            Map<String, String> meta = new LinkedHashMap<>();
            meta.put("format", "mkdt.metagrad_problem");
            meta.put("made_by", madeBy);
            meta.put("net", netJson(p.net()));
            meta.put("layout", Artefacts.layoutJson(p.net().layout().entries()));
            meta.put("definition", "theta_{k+1} = theta_k - alpha * grad MSE(net(theta_k, images[batch_k]), targets[batch_k]); "
                    + "L = ||theta_N - theta_star||^2 / ||theta0 - theta_star||^2");
            Path problemFile = dir.resolve(PROBLEM_FILE);
            SafeTensors.write(problemFile, problem, meta);
            written.add(problemFile);
            written.add(writeResult(dir, "cpu", p, madeBy));
            written.add(writeResult(dir, "cpu", rounded(cpu, p), madeBy));
            if (device != null && !(device instanceof CpuBackend)) written.add(writeResult(dir, device.name(), rounded(device, p), madeBy));
        }
        return written;
    }

    private static Path writeResult(Path dir, String backend, MatchingProblem p, String madeBy) throws IOException {
        String dtype = p.images().dtype() == DType.F64 ? "f64" : "f32";
        MetaGradResult r = new RecomputeMetaGrad().compute(p);
        Map<String, NdArray> out = new LinkedHashMap<>();
        out.put("loss", NdArray.of(new double[] {r.loss()}, 1));
        out.put("d_images", NdArray.of(r.dImages().toDoubleArray(), r.dImages().shape().dims()));
        out.put("d_targets", NdArray.of(r.dTargets().toDoubleArray(), r.dTargets().shape().dims()));
        out.put("d_alpha", NdArray.of(new double[] {r.dAlpha()}, 1));
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", "mkdt.metagrad_result");
        meta.put("made_by", madeBy);
        meta.put("backend", backend);
        meta.put("dtype", p.images().dtype() == DType.F64 ? "float64" : "float32");
        Path f = dir.resolve("result_" + backend + "_" + dtype + ".safetensors");
        SafeTensors.write(f, out, meta);
        return f;
    }

    /** The same problem on {@code backend} in float32 (every value rounded once). */
    private static MatchingProblem rounded(Backend backend, MatchingProblem p) {
        return new MatchingProblem(p.net(), f32(backend, p.theta0()), f32(backend, p.thetaStar()), f32(backend, p.images()),
                f32(backend, p.targets()), p.alpha(), p.schedules());
    }

    private static Tensor f32(Backend backend, Tensor t) {
        return Tensor.of(backend, DType.F32, t.shape(), t.toDoubleArray());
    }

    private static NdArray batches(MinibatchSchedule schedule) {
        int width = 0;
        for (int k = 0; k < schedule.steps(); k++) width = Math.max(width, schedule.batch(k).length);
        int[] v = new int[schedule.steps() * width];
        java.util.Arrays.fill(v, -1);
        for (int k = 0; k < schedule.steps(); k++) {
            int[] b = schedule.batch(k);
            System.arraycopy(b, 0, v, k * width, b.length);
        }
        return NdArray.of(v, schedule.steps(), width);
    }

    /** The student's constructor arguments and instance norm's eps, as JSON. */
    private static String netJson(ConvNet net) {
        int[] in = net.inputShape(1).dims();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("in_channels", in[1]);
        m.put("image_size", in[2]);
        m.put("width", net.width());
        m.put("depth", net.depth());
        m.put("out_dim", net.outDim());
        m.put("instance_norm_eps", InstanceNorm.EPS);
        try {
            return new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(m);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
