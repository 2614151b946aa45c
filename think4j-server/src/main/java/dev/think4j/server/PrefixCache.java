package dev.think4j.server;

import dev.think4j.kv.CompressedKvCache;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Caches of finished sequences with the exact ids they hold, least recently used first, so the next
 * turn of a chat prefills only what the conversation gained. Bytes are charged to the budget while
 * held. Scheduler thread only.
 */
final class PrefixCache {
    /** One finished cache: {@code ids} are exactly the tokens it was fed, {@code spec} its kv policy. */
    record Entry(long key, String spec, int[] ids, CompressedKvCache cache, long bytes, String sharedKey) {
    }

    private final int maxEntries;
    private final KvBudget budget;
    private final LinkedHashMap<Long, Entry> entries = new LinkedHashMap<>(16, 0.75f, true);
    /** Shared-store keys of the entries held here (see {@link KvShare#heldLocally()}), or null without a store. */
    private final Set<String> sharedKeys;
    private long nextKey;

    PrefixCache(int maxEntries, KvBudget budget) {
        this(maxEntries, budget, null);
    }

    PrefixCache(int maxEntries, KvBudget budget, Set<String> sharedKeys) {
        this.maxEntries = maxEntries;
        this.budget = budget;
        this.sharedKeys = sharedKeys;
    }

    int size() {
        return entries.size();
    }

    /** Keeps a finished cache, evicting the oldest beyond the entry limit; null when it was not kept (and freed). */
    Entry put(String spec, int[] ids, CompressedKvCache cache) {
        return put(spec, ids, cache, null);
    }

    /** As {@link #put(String, int[], CompressedKvCache)}; {@code sharedKey} is the cache's key in the shared store, or null. */
    Entry put(String spec, int[] ids, CompressedKvCache cache, String sharedKey) {
        if (maxEntries <= 0 || ids.length == 0) {
            cache.clear();
            return null;
        }
        long bytes = cache.bytes();
        // A cache that would not fit next to the active reservations is not worth keeping.
        if (bytes > budget.free()) {
            cache.clear();
            return null;
        }
        Entry e = new Entry(nextKey++, spec, ids, cache, bytes, sharedKey);
        entries.put(e.key(), e);
        budget.addPrefix(bytes);
        if (sharedKeys != null && sharedKey != null) {
            sharedKeys.add(sharedKey);
        }
        while (entries.size() > maxEntries) {
            evictOldest(e);
        }
        return e;
    }

    /** The entry with this key (marking it recently used), or null. */
    Entry get(long key) {
        return entries.get(key);
    }

    /** Entries, most recently used first (without changing that order). */
    java.util.List<Entry> newestFirst() {
        java.util.List<Entry> out = new java.util.ArrayList<>(entries.values());
        java.util.Collections.reverse(out);
        return out;
    }

    /** Drops one entry and frees its cache; false when there is no such entry. */
    boolean remove(long key) {
        Entry e = entries.remove(key);
        if (e == null) {
            return false;
        }
        budget.removePrefix(e.bytes());
        forget(e);
        e.cache().clear();
        return true;
    }

    /** The longest entry of the same spec whose ids are a strict prefix of {@code prompt}, or null. */
    Entry longestPrefix(String spec, int[] prompt) {
        Entry best = null;
        for (Entry e : entries.values()) {
            if (e.spec().equals(spec) && e.ids().length < prompt.length
                    && (best == null || e.ids().length > best.ids().length)
                    && Arrays.equals(e.ids(), 0, e.ids().length, prompt, 0, e.ids().length)) {
                best = e;
            }
        }
        return best;
    }

    /** Hands an entry's cache over to a sequence: no longer held here nor charged as prefix bytes. */
    CompressedKvCache take(Entry e) {
        if (entries.remove(e.key()) == null) {
            throw new IllegalStateException("prefix entry already taken");
        }
        budget.removePrefix(e.bytes());
        forget(e);
        return e.cache();
    }

    /** Drops the least recently used entry other than {@code keep}; false when there is none. */
    boolean evictOldest(Entry keep) {
        Iterator<Map.Entry<Long, Entry>> it = entries.entrySet().iterator();
        while (it.hasNext()) {
            Entry e = it.next().getValue();
            if (keep != null && e.key() == keep.key()) {
                continue;
            }
            it.remove();
            budget.removePrefix(e.bytes());
            forget(e);
            e.cache().clear();
            return true;
        }
        return false;
    }

    private void forget(Entry e) {
        if (sharedKeys != null && e.sharedKey() != null) {
            sharedKeys.remove(e.sharedKey());
        }
    }

    void clear() {
        while (evictOldest(null)) {
            // each call frees one entry
        }
    }
}
