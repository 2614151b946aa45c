package dev.think4j.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.think4j.Think4jException;
import dev.think4j.eval.TextFiles;
import dev.think4j.gguf.GgufFile;
import dev.think4j.tokenizer.TokenPieces;
import dev.think4j.tokenizer.Tokenizer;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * think4j tokenize: the token ids and pieces of a text. Reads only the GGUF metadata, so it works
 * on vocabulary-only files (no weights) as well as on full models.
 */
@Command(name = "tokenize", mixinStandardHelpOptions = true,
        description = "Print the token ids of a text (one 'id<TAB>piece' line per token).")
public final class TokenizeCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = {"-m", "--model"}, paramLabel = "PATH",
            description = "GGUF file with a tokenizer; a vocabulary-only file is enough (default: bundled stories260K)")
    Path model;

    @Option(names = "--text", paramLabel = "TEXT", description = "the text to tokenize")
    String text;

    @Option(names = "--file", paramLabel = "FILE", description = "UTF-8 file whose whole content (final newline included) is tokenized")
    Path file;

    @Option(names = "--no-bos", description = "do not add BOS even when the vocabulary asks for it")
    boolean noBos;

    @Option(names = "--parse-special", description = "turn special-token text such as <|eot_id|> or <|im_start|> into "
            + "those tokens (user-defined tokens such as <think> always are)")
    boolean parseSpecial;

    @Option(names = "--json", description = "print one JSON line {\"ids\":[...],\"pieces\":[...]} instead of the table")
    boolean json;

    @Override
    public Integer call() {
        if ((text == null) == (file == null)) {
            throw new Think4jException(text == null ? "missing text: give --text TEXT or --file FILE"
                    : "give the text once: --text or --file, not both");
        }
        String input = text != null ? text : TextFiles.readUtf8(file);
        Path path = model != null ? model : DefaultModel.path();
        PrintWriter out = spec.commandLine().getOut();
        try (GgufFile gguf = GgufFile.open(path)) {
            Tokenizer tok = Tokenizer.fromGguf(gguf);
            int[] ids = tok.encode(input, !noBos, parseSpecial);
            if (json) {
                ObjectMapper m = new ObjectMapper();
                ObjectNode n = m.createObjectNode();
                ArrayNode idArray = n.putArray("ids");
                ArrayNode pieces = n.putArray("pieces");
                for (int id : ids) {
                    idArray.add(id);
                    pieces.add(piece(tok, id, false));
                }
                out.println(n.toString());
            } else {
                for (int id : ids) {
                    out.println(id + "\t" + piece(tok, id, true));
                }
            }
            out.flush();
        }
        return 0;
    }

    /** See {@link TokenPieces#display}. */
    static String piece(Tokenizer tok, int id, boolean escapeControls) {
        return TokenPieces.display(tok, id, escapeControls);
    }
}
