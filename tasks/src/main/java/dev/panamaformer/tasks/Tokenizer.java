package dev.panamaformer.tasks;

import java.util.ArrayList;
import java.util.List;

/**
 * Text to token ids and back, over a {@link Vocabulary}: either one token per character, or
 * tokens separated by spaces. {@code decode(encode(text))} gives back the text (in its
 * canonical spacing), which the tests check for every task.
 */
public final class Tokenizer {
    private final Vocabulary vocabulary;
    private final boolean characters;

    private Tokenizer(Vocabulary vocabulary, boolean characters) {
        this.vocabulary = vocabulary;
        this.characters = characters;
    }

    /** One token per character: "153+391" is seven tokens. */
    public static Tokenizer characters(Vocabulary v) {
        return new Tokenizer(v, true);
    }

    /** Tokens separated by single spaces: "ASSIGN x ADD 1 2" is five tokens. */
    public static Tokenizer words(Vocabulary v) {
        return new Tokenizer(v, false);
    }

    public Vocabulary vocabulary() {
        return vocabulary;
    }

    public List<String> split(String text) {
        List<String> out = new ArrayList<>();
        if (characters) {
            // code points, not chars: an emoji is one (unknown) token, not two halves of a surrogate pair
            text.codePoints().forEach(cp -> out.add(Character.toString(cp)));
        } else {
            for (String w : text.trim().split(" +")) {
                if (!w.isEmpty()) {
                    out.add(w);
                }
            }
        }
        return out;
    }

    /** The ids of {@code text}'s tokens, without start, end or padding. */
    public int[] encode(String text) {
        List<String> parts = split(text);
        int[] ids = new int[parts.size()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = vocabulary.id(parts.get(i));
        }
        return ids;
    }

    /** The text of data tokens; padding, start and end tokens are dropped. */
    public String decode(int[] ids) {
        StringBuilder sb = new StringBuilder();
        for (int id : ids) {
            if (id == Vocabulary.PAD || id == Vocabulary.BOS || id == Vocabulary.EOS) {
                continue;
            }
            if (!characters && sb.length() > 0) {
                sb.append(' ');
            }
            sb.append(vocabulary.token(id));
        }
        return sb.toString();
    }
}
