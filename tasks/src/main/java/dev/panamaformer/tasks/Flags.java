package dev.panamaformer.tasks;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/** {@code --name value}, {@code --name=value} and bare {@code --switch} flags, each checked against its range. */
final class Flags {
    /** Flags that take a value. */
    static final Set<String> VALUED = Set.of("out", "variant", "steps", "batch", "lr", "warmup", "clip", "hidden", "layers",
            "heads", "ff", "max-positions", "encoding", "rope-scale", "window", "dropout", "activation", "positions", "seed", "eval-every", "eval-size",
            "test-size", "data", "valid", "test", "units", "source-units", "target-units", "interpolate", "beam", "temperature", "top-k", "top-p", "target", "patience", "threads", "layer", "head", "attention", "example", "show");
    /** Flags that stand alone. */
    static final Set<String> SWITCHES = Set.of("no-early-stop", "overwrite", "resume", "help", "show-scores");

    private final Map<String, String> values = new LinkedHashMap<>();

    static Flags parse(List<String> args) {
        Flags f = new Flags();
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (!a.startsWith("--") || a.length() == 2) {
                throw new UsageException("unexpected argument " + UserText.quoted(a) + "; flags start with --");
            }
            String name = a.substring(2), value = null;
            int eq = name.indexOf('=');
            if (eq >= 0) {
                value = name.substring(eq + 1);
                name = name.substring(0, eq);
            }
            if (SWITCHES.contains(name)) {
                if (value != null) {
                    throw new UsageException("--" + name + " takes no value");
                }
                value = "true";
            } else if (VALUED.contains(name)) {
                if (value == null) {
                    if (i + 1 >= args.size()) {
                        throw new UsageException("--" + name + " needs a value");
                    }
                    value = args.get(++i);
                }
            } else {
                throw new UsageException("unknown flag --" + name);
            }
            if (f.values.put(name, value) != null) {
                throw new UsageException("--" + name + " given twice");
            }
        }
        return f;
    }

    boolean has(String name) {
        return values.containsKey(name);
    }

    String string(String name, String fallback) {
        return values.getOrDefault(name, fallback);
    }

    int integer(String name, int fallback, int min, int max) {
        String v = values.get(name);
        if (v == null) {
            return fallback;
        }
        try {
            int x = Integer.parseInt(v.trim());
            if (x < min || x > max) {
                throw new UsageException("--" + name + " must be in [" + min + ", " + max + "], got " + x);
            }
            return x;
        } catch (NumberFormatException e) {
            throw new UsageException("--" + name + " needs an integer, got " + UserText.quoted(v));
        }
    }

    long longValue(String name, long fallback) {
        String v = values.get(name);
        if (v == null) {
            return fallback;
        }
        try {
            return Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            throw new UsageException("--" + name + " needs an integer, got " + UserText.quoted(v));
        }
    }

    float real(String name, float fallback, float min, float max) {
        String v = values.get(name);
        if (v == null) {
            return fallback;
        }
        try {
            float x = Float.parseFloat(v.trim());
            if (!(x >= min && x <= max)) {
                throw new UsageException("--" + name + " must be in [" + min + ", " + max + "], got " + v);
            }
            return x;
        } catch (NumberFormatException e) {
            throw new UsageException("--" + name + " needs a number, got " + UserText.quoted(v));
        }
    }

    <E extends Enum<E>> E choice(String name, E fallback, Class<E> type) {
        String v = values.get(name);
        if (v == null) {
            return fallback;
        }
        for (E e : type.getEnumConstants()) {
            if (e.name().equalsIgnoreCase(v.trim())) {
                return e;
            }
        }
        StringBuilder options = new StringBuilder();
        for (E e : type.getEnumConstants()) {
            options.append(options.length() == 0 ? "" : ", ").append(e.name().toLowerCase(Locale.ROOT));
        }
        throw new UsageException("--" + name + " must be one of " + options + ", got " + UserText.quoted(v));
    }
}
