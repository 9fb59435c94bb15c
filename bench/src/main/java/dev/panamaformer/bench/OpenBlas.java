package dev.panamaformer.bench;

import dev.ludovic.netlib.blas.NativeBLAS;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * netlib's NativeBLAS on OpenBLAS, pinned to one thread. NativeBLAS's JNI shim dlopens the
 * library named by {@value #LIBRARY_PROPERTY} (default {@code libblas.so.3}, which on Debian may
 * be the slow reference BLAS); {@link BlasGemmBenchmark}'s forks name OpenBLAS's own
 * {@code libopenblas.so.0}. This class opens the same name through the FFM linker, which yields
 * the same library instance, proves it is OpenBLAS (it exports {@code openblas_get_config}) and
 * sets and reads back its thread count.
 */
@SuppressWarnings("restricted") // calling into OpenBLAS is this class's job; the forks enable native access
final class OpenBlas {
    static final String LIBRARY_PROPERTY = "dev.ludovic.netlib.blas.nativeLib";
    static final String INSTALL = "apt-get install libopenblas0-pthread";
    static final String FLAG = "--enable-native-access=ALL-UNNAMED";

    private OpenBlas() {
    }

    /**
     * NativeBLAS on a one-thread OpenBLAS, after printing one line on what was loaded; throws
     * IllegalStateException with one line naming the fix where that is impossible.
     */
    static NativeBLAS load() {
        if (!OpenBlas.class.getModule().isNativeAccessEnabled()) {
            throw new IllegalStateException("OpenBLAS benchmark not run: native access is not enabled; run the JVM with "
                    + FLAG + " (bench/run's forks have it)");
        }
        String name = System.getProperty(LIBRARY_PROPERTY);
        if (name == null) {
            throw new IllegalStateException("OpenBLAS benchmark not run: -D" + LIBRARY_PROPERTY
                    + " is not set, so NativeBLAS would load whatever libblas.so.3 is; set it to libopenblas.so.0"
                    + " (bench/run's forks have it)");
        }
        SymbolLookup library;
        try {
            library = SymbolLookup.libraryLookup(name, Arena.global());
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException("OpenBLAS benchmark not run: cannot load " + name + " (" + e.getMessage()
                    + "); install it with: " + INSTALL);
        }
        Linker linker = Linker.nativeLinker();
        MethodHandle config = function(linker, library, name, "openblas_get_config", FunctionDescriptor.of(ValueLayout.ADDRESS));
        MethodHandle core = function(linker, library, name, "openblas_get_corename", FunctionDescriptor.of(ValueLayout.ADDRESS));
        MethodHandle setThreads = function(linker, library, name, "openblas_set_num_threads",
                FunctionDescriptor.ofVoid(ValueLayout.JAVA_INT));
        MethodHandle getThreads = function(linker, library, name, "openblas_get_num_threads",
                FunctionDescriptor.of(ValueLayout.JAVA_INT));
        String description;
        int threads;
        try {
            setThreads.invokeExact(1);
            threads = (int) getThreads.invokeExact();
            description = string((MemorySegment) config.invokeExact()) + ", core " + string((MemorySegment) core.invokeExact());
        } catch (Throwable e) {
            throw new IllegalStateException("OpenBLAS benchmark not run: calling " + name + " failed: " + e, e);
        }
        if (threads != 1) {
            throw new IllegalStateException("OpenBLAS benchmark not run: openblas_set_num_threads(1) left "
                    + threads + " threads in " + name);
        }
        NativeBLAS blas;
        try {
            blas = NativeBLAS.getInstance();
        } catch (RuntimeException e) {
            throw new IllegalStateException("OpenBLAS benchmark not run: netlib NativeBLAS failed to load " + name
                    + " (" + e.getMessage() + "); install it with: " + INSTALL, e);
        }
        System.out.println("OpenBLAS: " + name + ", " + description + ", " + threads + " thread, through "
                + blas.getClass().getName());
        return blas;
    }

    private static MethodHandle function(Linker linker, SymbolLookup library, String name, String symbol,
                                         FunctionDescriptor descriptor) {
        MemorySegment address = library.find(symbol).orElseThrow(() -> new IllegalStateException(
                "OpenBLAS benchmark not run: " + name + " has no " + symbol + ", so it is not OpenBLAS; install it with: "
                        + INSTALL));
        return linker.downcallHandle(address, descriptor);
    }

    private static String string(MemorySegment cString) {
        return cString.reinterpret(4096).getString(0).trim();
    }
}
