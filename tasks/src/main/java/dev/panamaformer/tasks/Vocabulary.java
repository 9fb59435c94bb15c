package dev.panamaformer.tasks;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Token strings and their ids. Ids 0, 1 and 2 are always padding, start and end, distinct from
 * every data token (the reference used 0 for padding, start and the digit zero at once).
 */
public final class Vocabulary {
    public static final int PAD = 0;
    public static final int BOS = 1;
    public static final int EOS = 2;

    private final List<String> tokens;
    private final Map<String, Integer> ids = new HashMap<>();

    public Vocabulary(List<String> dataTokens) {
        List<String> all = new ArrayList<>(List.of("<pad>", "<s>", "</s>"));
        all.addAll(dataTokens);
        for (int i = 0; i < all.size(); i++) {
            if (ids.put(all.get(i), i) != null) {
                throw new IllegalArgumentException("token '" + all.get(i) + "' appears twice in the vocabulary");
            }
        }
        this.tokens = Collections.unmodifiableList(all);
    }

    public int size() {
        return tokens.size();
    }

    /** The id of a data token, or an exception naming the unknown token. */
    public int id(String token) {
        Integer id = ids.get(token);
        if (id == null || id < 3) {
            throw new IllegalArgumentException("unknown token " + UserText.quoted(token));
        }
        return id;
    }

    public boolean contains(String token) {
        Integer id = ids.get(token);
        return id != null && id >= 3;
    }

    public String token(int id) {
        if (id < 0 || id >= tokens.size()) {
            throw new IllegalArgumentException("token id " + id + " outside [0, " + tokens.size() + ")");
        }
        return tokens.get(id);
    }

    public List<String> tokens() {
        return tokens;
    }
}
