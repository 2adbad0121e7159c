package org.mkdt.io;

import com.code_intelligence.jazzer.junit.FuzzTest;
import org.mkdt.data.CifarReader;

/**
 * Coverage-guided fuzzing of every parser (Jazzer). The property: whatever the bytes, a parser
 * returns or throws its documented {@link BadFileException}; any other exception or error is a
 * finding. In a plain test run each method runs once per seed input; .ci/run also fuzzes each
 * for a few seconds with JAZZER_FUZZ=1.
 */
class ParserFuzzTest {
    @FuzzTest(maxDuration = "10s")
    void npy(byte[] input) {
        try {
            Npy.read(input, "fuzz.npy");
        } catch (BadFileException expected) {
            // the documented outcome for malformed input
        }
    }

    @FuzzTest(maxDuration = "10s")
    void safetensors(byte[] input) {
        try {
            SafeTensors.read(input, "fuzz.safetensors");
        } catch (BadFileException expected) {
            // documented
        }
    }

    @FuzzTest(maxDuration = "10s")
    void idx(byte[] input) {
        try {
            Idx.read(input, "fuzz-idx");
        } catch (BadFileException expected) {
            // documented
        }
    }

    @FuzzTest(maxDuration = "10s")
    void cifar(byte[] input) {
        try {
            CifarReader.records(input, 2, 100, "fuzz.bin", java.util.Collections.nCopies(100, "c"));
        } catch (BadFileException expected) {
            // documented
        }
    }
}
