package dev.llmj.tokenizer;

import java.util.Arrays;

/**
 * An open-addressing hash map from a pair of token ids to an int (a merge rank, a count), with
 * no boxing: the BPE encoder looks up every adjacent pair of every word here.
 */
final class PairTable {
    private static final long EMPTY = -1L;
    private long[] keys;
    private int[] values;
    private int size;
    private int mask;

    PairTable(int expected) {
        int cap = Integer.highestOneBit(Math.max(16, expected * 2) - 1) << 1;
        keys = new long[cap];
        values = new int[cap];
        Arrays.fill(keys, EMPTY);
        mask = cap - 1;
    }

    static long key(int left, int right) {
        return ((long) left << 32) | (right & 0xFFFFFFFFL);
    }

    private static int slot(long key, int mask) {
        long h = key * 0x9E3779B97F4A7C15L;
        return (int) (h ^ (h >>> 29)) & mask;
    }

    /** The value for (left, right), or {@code missing}. */
    int get(int left, int right, int missing) {
        long k = key(left, right);
        for (int i = slot(k, mask); ; i = (i + 1) & mask) {
            long at = keys[i];
            if (at == k) return values[i];
            if (at == EMPTY) return missing;
        }
    }

    /** Sets (left, right) to {@code value} unless it is already present; returns whether it was added. */
    boolean putIfAbsent(int left, int right, int value) {
        long k = key(left, right);
        for (int i = slot(k, mask); ; i = (i + 1) & mask) {
            long at = keys[i];
            if (at == k) return false;
            if (at == EMPTY) {
                keys[i] = k;
                values[i] = value;
                if (++size * 2 > keys.length) grow();
                return true;
            }
        }
    }

    /** The value for (left, right); if absent, stores {@code value} and returns it. */
    int getOrPut(int left, int right, int value) {
        long k = key(left, right);
        for (int i = slot(k, mask); ; i = (i + 1) & mask) {
            long at = keys[i];
            if (at == k) return values[i];
            if (at == EMPTY) {
                keys[i] = k;
                values[i] = value;
                if (++size * 2 > keys.length) grow();
                return value;
            }
        }
    }

    int size() {
        return size;
    }

    private void grow() {
        long[] oldKeys = keys;
        int[] oldValues = values;
        keys = new long[oldKeys.length * 2];
        values = new int[oldKeys.length * 2];
        Arrays.fill(keys, EMPTY);
        mask = keys.length - 1;
        for (int j = 0; j < oldKeys.length; j++) {
            long k = oldKeys[j];
            if (k == EMPTY) continue;
            int i = slot(k, mask);
            while (keys[i] != EMPTY) i = (i + 1) & mask;
            keys[i] = k;
            values[i] = oldValues[j];
        }
    }
}
