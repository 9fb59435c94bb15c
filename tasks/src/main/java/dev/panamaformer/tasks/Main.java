package dev.panamaformer.tasks;

import dev.panamaformer.kernels.Kernels;
import dev.panamaformer.model.PositionScaling;
import dev.panamaformer.model.CheckpointException;
import dev.panamaformer.model.TransformerConfig;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/** {@code panamaformer TASK [COMMAND] [FLAGS]}: the worked examples from one command. */
public final class Main {
    static final String USAGE = """
            usage: ./panamaformer TASK [COMMAND] [FLAGS]

            TASK      copy | addition | parser | pairs (your own data: --data FILE)
            COMMAND   explain     show the data layout and tokenization of a few examples
                      train       train, with a progress line; writes model.safetensors, curve.png, metrics.csv
                      test        greedy-decode fresh examples with the trained model; ends with 'exact match: P% (k/n)'
                      attention   draw an annotated attention heatmap of one example (attention-*.png)
                      predict     the trained model's output for each INPUT after the command (e.g. "499+499"),
                                  or for each line of standard input; one line each
                      (none)      train, then test, then attention (encoder layer 0, and cross-attention of the last layer)

            addition and parser run two variants unless --variant picks one; copy runs its reference:
              addition  reference (3 digits, zero-padded; all 250,000 pairs) and lengths (1-3 digits, tested up to 10)
              parser    simple (v=d op d; all 1,200 expressions) and nested (parentheses, precedence, depth <= 3)
              copy      reference (20 symbols) or lengths (1-20 symbols, tested at 30 and 40)

            FLAGS (defaults are each task's reference settings)
              --out DIR             run directory (default runs/TASK; variants go below it)
              --variant V           reference|lengths|all (addition), simple|nested|all (parser), reference|lengths (copy)
              --encoding E          plain|reversed|coupled|hinted: how addition's lengths variant writes sums (default coupled)
              --steps N --batch N --lr X --warmup N --clip X --seed N
              --hidden N --layers N --heads N --ff N --max-positions N --dropout X
              --activation relu|gelu --positions learned|sinusoidal|rope|rope_cross|none|t5|t5_cross|alibi --rope-scale X
              --window N            attend only to keys whose position id is within N of the query's
                                    (0: all; addition --variant lengths --encoding coupled: 1)
              --eval-every N --eval-size N --target P --patience N --no-early-stop --overwrite
              --resume              continue the run in the run directory from its last evaluation (same flags)
              --test-size N --show N --threads N
              --data FILE           pairs: lines of source, a tab, target (UTF-8); split 85/5/10 by --seed
              --valid FILE --test FILE  pairs: validation and test pairs of their own (then not held out of --data)
              --units chars|words   pairs: what a token is (--source-units/--target-units: per side; default chars)
              --interpolate linear|ntk  test and draw past the trained positions by position interpolation
                                    (learned, sinusoidal, rope) or NTK-aware scaling (rope)
              --attention encoder|decoder|cross --layer N --head N --example TEXT
              --beam N | --temperature X --top-k N --top-p X   predict by beam search or by sampling (default greedy)
              --show-scores         predict: the log-probability of each output after a tab
            """;

    private Main() {
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /** Runs the command line; returns the exit status (0 fine, 1 failed, 2 a usage mistake). */
    static int run(String[] args, PrintStream out, PrintStream err) {
        return run(args, System.in, out, err);
    }

    /** {@link #run(String[], PrintStream, PrintStream)} with {@code predict}'s inputs, where none are arguments, from {@code in}. */
    static int run(String[] args, java.io.InputStream in, PrintStream out, PrintStream err) {
        try {
            List<String> rest = new ArrayList<>(Arrays.asList(args));
            if (rest.isEmpty() || rest.contains("--help") || rest.get(0).equals("help") || rest.get(0).equals("-h")) {
                out.print(USAGE);
                return 0;
            }
            String taskName = rest.remove(0).toLowerCase(Locale.ROOT);
            String command = "all";
            if (!rest.isEmpty() && !rest.get(0).startsWith("--")) {
                command = rest.remove(0).toLowerCase(Locale.ROOT);
                if (!List.of("explain", "train", "test", "attention", "predict").contains(command)) {
                    throw new UsageException("unknown command '" + command + "'; use explain, train, test, attention or predict");
                }
            }
            List<String> inputs = new ArrayList<>();
            for (int i = 0; command.equals("predict") && i < rest.size(); ) {
                // predict's inputs are the arguments that are neither flags nor their values
                String a = rest.get(i);
                if (a.startsWith("--")) {
                    i += Flags.VALUED.contains(a.substring(2)) ? 2 : 1;
                } else {
                    inputs.add(rest.remove(i));
                }
            }
            Flags flags = Flags.parse(rest);
            for (String pairsOnly : List.of("data", "valid", "test", "units", "source-units", "target-units")) {
                if (!taskName.equals("pairs") && flags.has(pairsOnly)) {
                    throw new UsageException("--" + pairsOnly + " is for the pairs task only");
                }
            }
            List<Task> tasks = taskName.equals("pairs") ? List.of(command.equals("predict") && !flags.has("data")
                    ? PairsTask.fromCheckpoint(pairsDirectory(flags).resolve(TrainingRun.CHECKPOINT)) : pairs(flags))
                    : tasks(taskName, flags.string("variant", "all"), flags.has("encoding")
                    ? flags.choice("encoding", AdditionTask.Encoding.COUPLED, AdditionTask.Encoding.class) : null);
            Kernels kernels = flags.has("threads") ? Kernels.withThreads(flags.integer("threads", 1, 1, 256)) : Kernels.defaults();
            if (command.equals("predict")) {
                // one model answers: the first variant (reference, simple) unless --variant names another
                Task task = tasks.get(0);
                Settings s = settings(task, flags);
                Prediction.Choice choice = Prediction.Choice.of(flags, s.seed());
                int failed = Prediction.run(task, directory(task, flags), kernels, choice, inputs,
                        new java.io.BufferedReader(new java.io.InputStreamReader(in, java.nio.charset.StandardCharsets.UTF_8)), out, err);
                return failed == 0 ? 0 : 1;
            }
            Testing.Options options = new Testing.Options(kernels, flags.has("interpolate")
                    ? flags.choice("interpolate", PositionScaling.Method.LINEAR, PositionScaling.Method.class) : PositionScaling.Method.NONE);
            if (options.interpolate() == PositionScaling.Method.NONE && flags.has("interpolate")) {
                throw new UsageException("--interpolate must be linear or ntk");
            }
            for (Task task : tasks) {
                Settings s = settings(task, flags);
                Path dir = directory(task, flags);
                if (tasks.size() > 1) {
                    out.println("=== " + task.name() + " ===");
                }
                switch (command) {
                    case "explain" -> out.println(task.explain(new SplittableRandom(s.seed())));
                    case "train" -> train(task, s, dir, flags, kernels, out);
                    case "test" -> Testing.test(task, s, dir, flags.integer("show", 5, 0, 1000), options, out);
                    case "attention" -> Attention.draw(task, s, dir, flags, kernels, out);
                    default -> {
                        train(task, s, dir, flags, kernels, out);
                        Testing.test(task, s, dir, flags.integer("show", 5, 0, 1000), options, out);
                        Attention.draw(task, s, dir, flags, kernels, out);
                        if (!flags.has("attention")) {
                            // and where the decoder looks in the source, in its last layer
                            Attention.draw(task, s, dir, flags, Attention.Kind.CROSS, Integer.MAX_VALUE, kernels, out);
                        }
                    }
                }
            }
            return 0;
        } catch (UsageException e) {
            err.println("error: " + e.getMessage());
            err.println("run './panamaformer --help' for usage");
            return 2;
        } catch (CheckpointException e) {
            err.println("error: " + e.getMessage());
            return 1;
        } catch (AccessDeniedException e) {
            // reads and writes both end here: say which file, not a guess at which of the two failed
            err.println("error: permission denied: " + e.getFile() + (e.getReason() == null ? "" : " (" + e.getReason() + ")"));
            return 1;
        } catch (FileSystemException e) {
            err.println("error: " + e.getFile() + ": " + (e.getReason() == null ? e.getClass().getSimpleName() : e.getReason()));
            return 1;
        } catch (IOException e) {
            err.println("error: " + e.getMessage());
            return 1;
        } catch (IllegalArgumentException e) {
            err.println("error: " + e.getMessage());
            return 2;
        } catch (OutOfMemoryError e) {
            err.println("error: not enough memory for this model and batch (" + e.getMessage()
                    + "); lower --hidden, --ff, --layers or --batch");
            return 1;
        }
    }

    /** The pairs task of {@code --data FILE}, split by {@code --seed}, units from {@code --units} or per side. */
    static PairsTask pairs(Flags flags) throws IOException {
        if (!flags.has("data")) {
            throw new UsageException("pairs needs --data FILE: lines of source, a tab, target (UTF-8)");
        }
        if (flags.has("variant") || flags.has("encoding")) {
            throw new UsageException("pairs has no variants or encodings; drop --variant and --encoding");
        }
        PairsTask.Units both = flags.choice("units", PairsTask.Units.CHARS, PairsTask.Units.class);
        return PairsTask.read(Path.of(flags.string("data", "")), flags.has("valid") ? Path.of(flags.string("valid", "")) : null,
                flags.has("test") ? Path.of(flags.string("test", "")) : null, flags.choice("source-units", both, PairsTask.Units.class),
                flags.choice("target-units", both, PairsTask.Units.class), flags.longValue("seed", 1));
    }

    /** Where a pairs run lives: --out, or runs/pairs. */
    private static Path pairsDirectory(Flags flags) {
        if (flags.has("out") && flags.string("out", "").isBlank()) {
            throw new UsageException("--out needs a directory, got an empty one");
        }
        return flags.has("out") ? Path.of(flags.string("out", "")) : Path.of("runs", "pairs");
    }

    static List<Task> tasks(String name, String variant) {
        return tasks(name, variant, null);
    }

    /** {@code encoding}: the addition lengths variant's (--encoding), or null for its default. */
    static List<Task> tasks(String name, String variant, AdditionTask.Encoding encoding) {
        String v = variant.toLowerCase(Locale.ROOT);
        if (encoding != null && !(name.equals("addition") && v.equals("lengths"))) {
            throw new UsageException("--encoding is for addition --variant lengths only");
        }
        return switch (name) {
            case "copy" -> switch (v) {
                // "all" is the default of every task: for copy the reference alone, the main job
                case "all", "reference" -> List.of(new CopyTask(20));
                case "lengths" -> List.of(new CopyTask(20, CopyTask.Variant.LENGTHS));
                default -> throw new UsageException("--variant for copy must be reference or lengths, got " + UserText.quoted(variant));
            };
            case "addition" -> switch (v) {
                case "all" -> List.of(new AdditionTask(AdditionTask.Variant.REFERENCE), new AdditionTask(AdditionTask.Variant.LENGTHS));
                case "reference" -> List.of(new AdditionTask(AdditionTask.Variant.REFERENCE));
                case "lengths" -> List.of(encoding == null ? new AdditionTask(AdditionTask.Variant.LENGTHS)
                        : new AdditionTask(AdditionTask.Variant.LENGTHS, encoding));
                default -> throw new UsageException("--variant for addition must be reference, lengths or all, got " + UserText.quoted(variant));
            };
            case "parser" -> switch (v) {
                case "all" -> List.of(new ParserTask(ParserTask.Variant.SIMPLE), new ParserTask(ParserTask.Variant.NESTED));
                case "simple" -> List.of(new ParserTask(ParserTask.Variant.SIMPLE));
                case "nested" -> List.of(new ParserTask(ParserTask.Variant.NESTED));
                default -> throw new UsageException("--variant for parser must be simple, nested or all, got " + UserText.quoted(variant));
            };
            default -> throw new UsageException("unknown task '" + name + "'; use copy, addition or parser");
        };
    }

    /** The task's defaults with every flag that was given. */
    static Settings settings(Task task, Flags f) {
        Settings d = task.defaults();
        TransformerConfig.Positions positions = f.choice("positions", d.positions(), TransformerConfig.Positions.class);
        boolean ownBias = positions == TransformerConfig.Positions.T5 || positions == TransformerConfig.Positions.T5_CROSS
                || positions == TransformerConfig.Positions.ALIBI;
        // a task's default window gives way to a position type with a bias of its own; one asked for does not
        int window = f.has("window") || !ownBias ? f.integer("window", d.model().window(), 0, 1 << 16) : 0;
        if (window > 0 && ownBias) {
            throw new UsageException("--window " + window + " does not combine with --positions "
                    + positions.name().toLowerCase(java.util.Locale.ROOT) + " (a bias of its own); use --window 0");
        }
        Settings s = new Settings(
                new Settings.Model(f.integer("hidden", d.hidden(), 1, 8192), f.integer("layers", d.layers(), 1, 64),
                        f.integer("heads", d.heads(), 1, 256), f.integer("ff", d.ff(), 1, 65536),
                        f.integer("max-positions", d.maxPositions(), Math.max(task.sourceLength(), Batches.decoderLength(task)), 1 << 16),
                        f.real("dropout", d.dropout(), 0f, 0.99f),
                        f.choice("activation", d.activation(), TransformerConfig.Activation.class),
                        positions, f.real("rope-scale", d.model().ropeScale(), 1e-6f, 1e6f), window),
                new Settings.Schedule(f.integer("batch", d.batch(), 1, 100_000), f.integer("steps", d.steps(), 1, 10_000_000),
                        f.real("lr", d.lr(), 1e-7f, 1f), f.integer("warmup", d.warmup(), 0, 10_000_000),
                        f.real("clip", d.clip(), 0f, 1e6f), f.longValue("seed", d.seed())),
                new Settings.Checks(f.integer("eval-every", d.evalEvery(), 1, 10_000_000),
                        f.integer("eval-size", d.evalSize(), 1, 10_000_000),
                        f.integer("test-size", Math.max(1, d.testSize()), 1, 100_000_000), f.real("target", d.target(), 0f, 100f)));
        if (s.hidden() % s.heads() != 0) {
            throw new UsageException("--hidden " + s.hidden() + " is not divisible by --heads " + s.heads());
        }
        return s;
    }

    /** runs/TASK by default; --out DIR replaces runs/TASK, and a variant's subdirectory stays below it. */
    static Path directory(Task task, Flags f) throws IOException {
        String d = task.directory();
        int slash = d.indexOf('/');
        String base = slash < 0 ? d : d.substring(0, slash), sub = slash < 0 ? "" : d.substring(slash + 1);
        if (f.has("out") && f.string("out", "").isBlank()) {
            // Path.of("") is the current directory: a run would write its files among the user's
            throw new UsageException("--out needs a directory, got an empty one");
        }
        Path root = f.has("out") ? Path.of(f.string("out", "")) : Path.of("runs", base);
        return sub.isEmpty() ? root : root.resolve(sub);
    }

    private static void train(Task task, Settings s, Path dir, Flags flags, Kernels kernels, PrintStream out) throws IOException {
        boolean resume = flags.has("resume");
        if (resume && flags.has("overwrite")) {
            throw new UsageException("--resume continues the run in " + dir + " and --overwrite replaces it: give one of them");
        }
        if (!resume && Files.exists(dir.resolve(TrainingRun.CHECKPOINT)) && !flags.has("overwrite")) {
            throw new UsageException(dir + " holds the checkpoint of an earlier run; --overwrite replaces it (with its metrics"
                    + " and pictures), --resume continues it, --out DIR trains into another directory");
        }
        writable(dir);
        // a task that does not stop early by itself still does when --patience asks it to
        int patience = flags.has("no-early-stop") || (!task.stopsEarly() && !flags.has("patience")) ? 0
                : flags.integer("patience", 2, 1, 1000);
        TrainingRun.train(task, s, dir, patience, resume, Integer.MAX_VALUE, kernels, out);
    }

    /** Fails with one line, before any training, when the run directory cannot be written. */
    static void writable(Path dir) throws IOException {
        try {
            Files.createDirectories(dir);
            Path probe = Files.createTempFile(dir, ".probe", ".tmp");
            Files.delete(probe);
        } catch (FileSystemException e) {
            throw new UsageException("cannot write the output directory " + dir + " (" + (e.getReason() == null
                    ? e.getClass().getSimpleName() : e.getReason()) + ")");
        }
    }
}
