package org.mkdt.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class ChecksTest {
    static final Checks.RowNames NAMES = new Checks.RowNames("teacher", "random teacher", "mkdt", "initial", "random", "none", "full",
            "mkdt at 0.1", "initial at learned");

    /** A row with the same accuracy for both seeds at both fractions, and a held-out error. */
    static Results.Row row(String name, double a1, double a5, Double held) {
        return new Results.Row(name, 10, 0.1, new double[][] {{a1, a1}, {a5, a5}}, held == null ? null : new double[] {held, held});
    }

    static Results table(double teacher, double full, double random, double mkdt) {
        Results r = new Results(new double[] {0.01, 0.05}, new long[] {0, 1});
        r.add(row("teacher", teacher, teacher + 0.05, null));
        r.add(row("random teacher", 0.80, 0.85, null));
        r.add(row("mkdt", mkdt, mkdt + 0.05, 0.10));
        r.add(row("initial", 0.81, 0.86, 0.20));
        r.add(row("random", random, random + 0.05, 0.15));
        r.add(row("none", 0.80, 0.85, 0.90));
        r.add(row("full", full, full + 0.05, 0.05));
        return r;
    }

    static Checks.Check check(Checks c, String id) {
        return c.all().stream().filter(x -> x.id().equals(id)).findFirst().orElseThrow();
    }

    @Test
    void allHoldInTheRegimeWhereASubsetCanShowItsWorth() {
        Checks c = new Checks(table(0.84, 0.86, 0.82, 0.835), NAMES);
        assertTrue(c.preconditionsHold(), c.markdown());
        assertEquals(List.of("G1", "G2", "G3", "M1", "M2"), c.all().stream().map(Checks.Check::id).toList());
        assertTrue(check(c, "M1").holds(), c.markdown());
        assertTrue(check(c, "M2").holds());
        assertTrue(c.verdict().startsWith("The preconditions hold"));
        assertTrue(check(c, "M1").detail().contains("+1.50 ± 0.00 / +1.50 ± 0.00 points (paired by seed)"), check(c, "M1").detail());
    }

    @Test
    void aTeacherWorseThanRandomFailsG1AndTheVerdictSaysWhy() {
        Checks c = new Checks(table(0.76, 0.86, 0.82, 0.835), NAMES);
        assertFalse(check(c, "G1").holds());
        assertFalse(c.preconditionsHold());
        assertTrue(c.verdict().startsWith("This setting cannot show a subset's benefit: G1 fails (the teacher beats random initialisation: 76.00 / 81.00 vs 80.00 / 85.00)"),
                c.verdict());
    }

    @Test
    void fullDataBelowNoPretrainingFailsG2AndG3() {
        Checks c = new Checks(table(0.84, 0.79, 0.82, 0.835), NAMES);
        assertFalse(check(c, "G2").holds());
        assertFalse(check(c, "G3").holds());
        // MKDT only 0.5 points above the random subset: M1 fails even where the others hold.
        Checks m = new Checks(table(0.84, 0.86, 0.83, 0.835), NAMES);
        assertFalse(check(m, "M1").holds());
    }

    @Test
    void withoutTheTeacherRowsG1IsNotCheckedAndThePreconditionsAreNotMet() {
        Results r = new Results(new double[] {0.01}, new long[] {0});
        r.add(new Results.Row("none", 0, 0.1, new double[][] {{0.8}}, null));
        r.add(new Results.Row("full", 10, 0.1, new double[][] {{0.9}}, null));
        Checks c = new Checks(r, NAMES);
        assertNull(check(c, "G1").holds());
        assertTrue(check(c, "G2").holds());
        assertFalse(c.preconditionsHold());
        assertTrue(c.verdict().contains("G1 was not checked"), c.verdict());
    }
    @Test
    void theTwoSplitRowsSeparateWhatTheImagesGainedFromWhatTheLearnedLrGained() {
        Results r = table(0.84, 0.86, 0.82, 0.835); // mkdt 83.5, initial 81.0
        assertTrue(new Checks(r, NAMES).imagesOrLr().isEmpty(), "no split rows, no split lines");
        r.add(row("mkdt at 0.1", 0.815, 0.865, null)); // the images alone: +0.5 over the initial subset
        r.add(row("initial at learned", 0.83, 0.88, null)); // the lr alone: +2.0 on the initial images
        Checks c = new Checks(r, NAMES);
        assertEquals(List.of(
                "the distilled images' gain at the subsets' lr (mkdt at 0.1 minus initial): +0.50 ± 0.00 / +0.50 ± 0.00 points (paired by seed)",
                "the distilled images' gain at the learned lr (mkdt minus initial at learned): +0.50 ± 0.00 / +0.50 ± 0.00 points (paired by seed)",
                "the learned lr's gain with the distilled images (mkdt minus mkdt at 0.1): +2.00 ± 0.00 / +2.00 ± 0.00 points (paired by seed)",
                "the learned lr's gain with the initial images (initial at learned minus initial): +2.00 ± 0.00 / +2.00 ± 0.00 points (paired by seed)"),
                c.imagesOrLr());
        assertTrue(c.markdown().contains("Images or learned lr:\n\n- the distilled images' gain at the subsets' lr"), c.markdown());
        // The split rows are not checks: they leave G1-G3, M1 and M2 as they were.
        assertEquals(List.of("G1", "G2", "G3", "M1", "M2"), c.all().stream().map(Checks.Check::id).toList());
    }
}
