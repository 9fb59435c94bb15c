package dev.panamaformer.kernels;

import net.jqwik.api.lifecycle.LifecycleContext;
import net.jqwik.api.lifecycle.SkipExecutionHook;

/**
 * Skips a property that compares the SIMD kernels with their scalar twin when the kernels under
 * test are scalar themselves (the {@code forced-scalar} and {@code no-vector-module} runs): it
 * would compare scalar with scalar and pass, saying nothing. Reported as skipped, with the reason,
 * as Lucene does with assumptions. Use with {@code @AddLifecycleHook(SimdOnly.class)}.
 */
public final class SimdOnly implements SkipExecutionHook {
    @Override
    public SkipResult shouldBeSkipped(LifecycleContext context) {
        return TestData.UNDER_TEST.isVectorized() ? SkipResult.doNotSkip()
                : SkipResult.skip("the kernels under test are scalar (" + TestData.UNDER_TEST.description()
                        + "): nothing to compare with the scalar twin");
    }
}
