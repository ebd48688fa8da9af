package dev.llmj.tokenizer;

import java.util.Arrays;

/** A growable int array, so token lists are not boxed. */
public final class IntList {
    private int[] a;
    private int size;

    public IntList() {
        this(16);
    }

    public IntList(int capacity) {
        a = new int[Math.max(1, capacity)];
    }

    public void add(int v) {
        if (size == a.length) a = Arrays.copyOf(a, a.length * 2);
        a[size++] = v;
    }

    public void addAll(int[] vs) {
        addAll(vs, 0, vs.length);
    }

    public void addAll(int[] vs, int from, int to) {
        int n = to - from;
        if (size + n > a.length) a = Arrays.copyOf(a, Math.max(a.length * 2, size + n));
        System.arraycopy(vs, from, a, size, n);
        size += n;
    }

    public int get(int i) {
        return a[i];
    }

    public int size() {
        return size;
    }

    public void clear() {
        size = 0;
    }

    public int[] toArray() {
        return Arrays.copyOf(a, size);
    }
}
