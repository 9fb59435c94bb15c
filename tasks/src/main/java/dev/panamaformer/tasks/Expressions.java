package dev.panamaformer.tasks;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Assignments {@code v = expression} over the variables x, y, z and integers 0..99 with + - * /
 * and parentheses, the usual precedence (* and / before + and -) and left associativity. Trees
 * come as random samples or from {@link #parse}; {@link #infix} renders one as source text with
 * the parentheses it needs, {@link #prefix} as the target: {@code ( OP left right )} in prefix.
 */
final class Expressions {
    /** A node: a variable or an integer leaf, or an operator with two children. */
    record Node(String op, String leaf, Node left, Node right) {
        static Node leaf(String value) {
            return new Node(null, value, null, null);
        }

        static Node of(String op, Node left, Node right) {
            return new Node(op, null, left, right);
        }

        boolean isLeaf() {
            return op == null;
        }

        int depth() {
            return isLeaf() ? 0 : 1 + Math.max(left.depth(), right.depth());
        }
    }

    static final List<String> VARIABLES = List.of("x", "y", "z");
    static final String OPS = "+-*/";
    static final List<String> NAMES = List.of("ADD", "SUB", "MUL", "DIV");

    private Expressions() {
    }

    static int precedence(String op) {
        return op.equals("+") || op.equals("-") ? 1 : 2;
    }

    /** A random tree of at most {@code depth} operator levels. */
    static Node random(SplittableRandom r, int depth) {
        if (depth == 0 || r.nextInt(4) == 0) {
            return r.nextInt(2) == 0 ? Node.leaf(VARIABLES.get(r.nextInt(3))) : Node.leaf(Integer.toString(r.nextInt(100)));
        }
        String op = String.valueOf(OPS.charAt(r.nextInt(4)));
        return Node.of(op, random(r, depth - 1), random(r, depth - 1));
    }

    /** Infix text with the parentheses precedence and left associativity need; {@code extra} adds some that are not needed. */
    static String infix(Node n, SplittableRandom extra) {
        if (n.isLeaf()) {
            return n.leaf();
        }
        String left = infix(n.left(), extra), right = infix(n.right(), extra);
        int p = precedence(n.op());
        if (!n.left().isLeaf() && (precedence(n.left().op()) < p || (extra != null && extra.nextInt(8) == 0))) {
            left = "(" + left + ")";
        }
        if (!n.right().isLeaf() && (precedence(n.right().op()) <= p || (extra != null && extra.nextInt(8) == 0))) {
            right = "(" + right + ")";
        }
        return left + n.op() + right;
    }

    /** The target: {@code ( ASSIGN v <tree> )} with operators as {@code ( OP left right )}. */
    static String prefix(String variable, Node n) {
        return "( ASSIGN " + variable + " " + prefix(n) + " )";
    }

    private static String prefix(Node n) {
        if (n.isLeaf()) {
            return n.leaf();
        }
        return "( " + NAMES.get(OPS.indexOf(n.op())) + " " + prefix(n.left()) + " " + prefix(n.right()) + " )";
    }

    /** Parses {@code v=expr}; returns {variable, tree} or throws IllegalArgumentException naming the position. */
    static Object[] parseAssignment(String text) {
        Parser p = new Parser(text.replace(" ", ""));
        String v = p.variable();
        p.expect('=');
        Node tree = p.expression();
        if (p.pos != p.text.length()) {
            throw new IllegalArgumentException("unexpected '" + Character.toString(p.text.codePointAt(p.pos)) + "' at position " + p.pos
                    + " of " + UserText.quoted(text));
        }
        return new Object[] {v, tree};
    }

    /** Recursive descent over expression := term (('+'|'-') term)*, term := factor (('*'|'/') factor)*. */
    private static final class Parser {
        final String text;
        int pos;

        Parser(String text) {
            this.text = text;
        }

        IllegalArgumentException error(String what) {
            return new IllegalArgumentException("expected " + what + " at position " + pos + " of " + UserText.quoted(text));
        }

        void expect(char c) {
            if (pos >= text.length() || text.charAt(pos) != c) {
                throw error("'" + c + "'");
            }
            pos++;
        }

        String variable() {
            if (pos < text.length() && VARIABLES.contains(String.valueOf(text.charAt(pos)))) {
                return String.valueOf(text.charAt(pos++));
            }
            throw error("a variable x, y or z");
        }

        Node expression() {
            Node n = term();
            while (pos < text.length() && (text.charAt(pos) == '+' || text.charAt(pos) == '-')) {
                String op = String.valueOf(text.charAt(pos++));
                n = Node.of(op, n, term());
            }
            return n;
        }

        Node term() {
            Node n = factor();
            while (pos < text.length() && (text.charAt(pos) == '*' || text.charAt(pos) == '/')) {
                String op = String.valueOf(text.charAt(pos++));
                n = Node.of(op, n, factor());
            }
            return n;
        }

        Node factor() {
            if (pos < text.length() && text.charAt(pos) == '(') {
                pos++;
                Node n = expression();
                expect(')');
                return n;
            }
            if (pos < text.length() && Character.isDigit(text.charAt(pos))) {
                int start = pos;
                while (pos < text.length() && Character.isDigit(text.charAt(pos))) {
                    pos++;
                }
                String digits = text.substring(start, pos);
                if (digits.length() > 2 || (digits.length() == 2 && digits.charAt(0) == '0')) {
                    throw new IllegalArgumentException("integer " + UserText.quoted(digits) + " at position " + start + " of "
                            + UserText.quoted(text) + " is outside 0..99 or has a leading zero");
                }
                return Node.leaf(digits);
            }
            return Node.leaf(variable());
        }
    }

    /** All target tokens: brackets, ASSIGN, the operator names, the variables and 0..99. */
    static List<String> targetTokens() {
        List<String> t = new ArrayList<>(List.of("(", ")", "ASSIGN"));
        t.addAll(NAMES);
        t.addAll(VARIABLES);
        for (int i = 0; i < 100; i++) {
            t.add(Integer.toString(i));
        }
        return t;
    }
}
