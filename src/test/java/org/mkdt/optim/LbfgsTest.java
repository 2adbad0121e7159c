package org.mkdt.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class LbfgsTest {
    @Test
    void findsTheMinimumOfRosenbrock() {
        Lbfgs.Objective rosen = (x, g) -> {
            double a = 1 - x[0], b = x[1] - x[0] * x[0];
            g[0] = -2 * a - 400 * x[0] * b;
            g[1] = 200 * b;
            return a * a + 100 * b * b;
        };
        Lbfgs.Result r = new Lbfgs(10, 500, 1e-9).minimize(rosen, new double[] {-1.2, 1.0});
        assertEquals(1.0, r.x()[0], 1e-6, r.stop());
        assertEquals(1.0, r.x()[1], 1e-6, r.stop());
        assertTrue(r.iterations() < 200, "iterations: " + r.iterations());
    }

    @Test
    void solvesAnIllConditionedQuadratic() {
        int n = 50;
        Lbfgs.Objective q = (x, g) -> {
            double f = 0;
            for (int i = 0; i < n; i++) {
                double c = Math.pow(10, 4.0 * i / (n - 1)); // condition number 1e4
                g[i] = c * (x[i] - i);
                f += 0.5 * c * (x[i] - i) * (x[i] - i);
            }
            return f;
        };
        Lbfgs.Result r = new Lbfgs(10, 2000, 1e-8).minimize(q, new double[n]);
        for (int i = 0; i < n; i++) assertEquals(i, r.x()[i], 1e-6, "coordinate " + i + " (" + r.stop() + ")");
    }
}
