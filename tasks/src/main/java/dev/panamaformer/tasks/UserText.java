package dev.panamaformer.tasks;

/** User input as error messages echo it: whole code points (an emoji stays one), long input cut to a readable length. */
final class UserText {
    /** Code points shown of a longer input. */
    static final int SHOWN = 60;

    private UserText() {
    }

    /** {@code text} in single quotes, or its first {@link #SHOWN} code points and how long it was. */
    static String quoted(String text) {
        int length = text.codePointCount(0, text.length());
        if (length <= SHOWN) {
            return "'" + text + "'";
        }
        return "'" + text.substring(0, text.offsetByCodePoints(0, SHOWN)) + "...' (" + length + " characters)";
    }
}
