package dev.think4j.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.think4j.Think4jException;
import dev.think4j.eval.TextFiles;
import dev.think4j.gguf.GgufFile;
import dev.think4j.tokenizer.Tokenizer;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
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

    /**
     * What a token stands for: its bytes as text (special tokens by their name). Bytes that are
     * only part of a character (byte-fallback and byte-level tokens) are shown as {@code \xNN};
     * for the table, control characters and backslashes are escaped too.
     */
    static String piece(Tokenizer tok, int id, boolean escapeControls) {
        byte[] bytes = tok.tokenBytes(id);
        if (bytes.length == 0 && tok.tokenText(id) != null) {
            bytes = tok.tokenText(id).getBytes(StandardCharsets.UTF_8);
        }
        StringBuilder sb = new StringBuilder();
        CharsetDecoder dec = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer chars = CharBuffer.allocate(bytes.length * 2 + 2);
        while (in.hasRemaining()) {
            CoderResult r = dec.decode(in, chars, true);
            if (r.isError()) {
                appendChars(sb, chars, escapeControls);
                for (int i = 0; i < r.length(); i++) {
                    sb.append(String.format("\\x%02X", in.get() & 0xff));
                }
            } else if (r.isUnderflow()) {
                break;
            }
        }
        dec.flush(chars);
        appendChars(sb, chars, escapeControls);
        return sb.toString();
    }

    private static void appendChars(StringBuilder sb, CharBuffer chars, boolean escapeControls) {
        chars.flip();
        String s = chars.toString();
        chars.clear();
        if (!escapeControls) {
            sb.append(s);
            return;
        }
        s.codePoints().forEach(cp -> {
            switch (cp) {
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                case '\\' -> sb.append("\\\\");
                default -> {
                    int type = Character.getType(cp);
                    if (type == Character.CONTROL || type == Character.FORMAT || type == Character.UNASSIGNED
                            || type == Character.LINE_SEPARATOR || type == Character.PARAGRAPH_SEPARATOR) {
                        sb.append(cp <= 0xFFFF ? String.format("\\u%04X", cp) : String.format("\\U%08X", cp));
                    } else {
                        sb.appendCodePoint(cp);
                    }
                }
            }
        });
    }
}
