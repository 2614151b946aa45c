package dev.think4j.cli;

import dev.think4j.Think4jException;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** think4j command line: one subcommand per job. User errors print one line on stderr and exit 2. */
@Command(name = "think4j", mixinStandardHelpOptions = true, version = "think4j 0.1.0",
        description = "Pure-Java LLM inference with a ThinK-compressed KV cache.",
        subcommands = {
            GenerateCommand.class,
            ChatCommand.class,
            EvalCommand.class,
            BenchCommand.class,
            ServeCommand.class,
            ChannelsCommand.class,
            InspectCommand.class,
            TokenizeCommand.class,
            SynthCommand.class,
        })
public final class Main implements Runnable {
    public static final int EXIT_USER_ERROR = 2;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing command; see think4j --help");
    }

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    /** Runs the CLI and returns the exit code (tests call this directly). */
    public static int execute(String... args) {
        CommandLine cl = commandLine();
        return cl.execute(args);
    }

    /** Messages quote text from files and requests: line breaks there must not split the one error line. */
    static String oneLine(String message) {
        return message == null ? "" : message.replace("\r", "\\r").replace("\n", "\\n").replaceAll("\\p{Cntrl}", "?");
    }

    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            Throwable t = ex;
            while (t != null && !(t instanceof Think4jException) && t.getCause() != null && t.getCause() != t) {
                t = t.getCause();
            }
            PrintWriter err = cmd.getErr();
            if (t instanceof Think4jException) {
                err.println("error: " + oneLine(t.getMessage()));
                err.flush();
                return EXIT_USER_ERROR;
            }
            err.println("internal error: " + ex);
            if (Boolean.getBoolean("think4j.debug")) {
                ex.printStackTrace(err);
            } else {
                err.println("(run with THINK4J_JAVA_OPTS=-Dthink4j.debug=true for a stack trace)");
            }
            err.flush();
            return 1;
        });
        cl.setParameterExceptionHandler((ex, args) -> {
            CommandLine cmd = ex.getCommandLine();
            PrintWriter err = cmd.getErr();
            String unknown = unknownCommand(ex);
            err.println("error: " + (unknown != null ? unknown : ex.getMessage()));
            err.println("(see '" + cmd.getCommandSpec().qualifiedName() + " --help')");
            err.flush();
            return EXIT_USER_ERROR;
        });
        return cl;
    }

    /**
     * "unknown command 'genrate' (did you mean 'generate'?)" when the first word after a command
     * that has subcommands matches none of them; null for any other parameter error.
     */
    static String unknownCommand(CommandLine.ParameterException ex) {
        if (!(ex instanceof CommandLine.UnmatchedArgumentException u) || u.getUnmatched().isEmpty()) {
            return null;
        }
        CommandLine cmd = u.getCommandLine();
        java.util.Set<String> names = cmd.getSubcommands().keySet();
        String word = u.getUnmatched().getFirst();
        if (names.isEmpty() || word.startsWith("-")) {
            return null;
        }
        // only when the stray word stands where a subcommand belongs (right after the command itself)
        CommandLine.ParseResult pr = cmd.getParseResult();
        if (pr != null && !pr.matchedArgs().isEmpty()) {
            return null;
        }
        String where = cmd.getParent() == null ? "command" : cmd.getCommandName() + " task";
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String n : names) {
            int d = editDistance(word.toLowerCase(java.util.Locale.ROOT), n);
            if (d < bestDistance) {
                best = n;
                bestDistance = d;
            }
        }
        // a suggestion at distance more than a third of the word is a guess, not a likely typo
        boolean close = best != null && (bestDistance <= Math.max(2, best.length() / 3) || best.startsWith(word) || word.startsWith(best));
        return "unknown " + where + " '" + word + "'" + (close ? " (did you mean '" + best + "'?)"
                : "; the " + where + "s are: " + String.join(", ", names));
    }

    /** Levenshtein distance with adjacent transpositions counted as one edit (optimal string alignment). */
    static int editDistance(String a, String b) {
        int[][] d = new int[a.length() + 1][b.length() + 1];
        for (int i = 0; i <= a.length(); i++) {
            d[i][0] = i;
        }
        for (int j = 0; j <= b.length(); j++) {
            d[0][j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                d[i][j] = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
                if (i > 1 && j > 1 && a.charAt(i - 1) == b.charAt(j - 2) && a.charAt(i - 2) == b.charAt(j - 1)) {
                    d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
                }
            }
        }
        return d[a.length()][b.length()];
    }
}
