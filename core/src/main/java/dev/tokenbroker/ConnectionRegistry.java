package dev.tokenbroker;

import dev.tokenbroker.store.StoredConnection;
import dev.tokenbroker.store.TokenStore;
import dev.tokenbroker.store.Tombstone;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;

/**
 * The broker's connections. Configured ones are fixed when the broker is built and looked up in a
 * {@link ConnectionTable} (one probe, no entry objects); connections made from an app's {@link
 * ConnectionTemplate} come and go at run time and live in a concurrent map beside it: added when
 * onboarded here, when a lookup misses and the store holds tokens for the id (authorized on another
 * instance), or when {@link Discovery} sees them in the store's changes; removed when removed here
 * or anywhere else.
 */
final class ConnectionRegistry {
  /** Tombstone reasons that end a run-time connection, rather than wait for a new authorization. */
  static final Set<String> REMOVAL_REASONS = Set.of("removed", "uninstalled", "unlinked");

  /** Builds a run-time connection from its template. */
  interface Maker {
    /** {@code subject} is null for an app's own connection (its subject known on completion). */
    Connection make(ConnectionId id, ConnectionTemplate template, @Nullable String subject);
  }

  private final ConnectionTable byId;
  private final Connection[] configured;
  private volatile List<ConnectionTemplate> templates;
  private final Map<ConnectionId, Connection> dynamic = new ConcurrentHashMap<>();
  private final Map<String, Connection> appConnections = new ConcurrentHashMap<>();
  private final @Nullable TokenStore store;
  private final @Nullable Maker maker;

  /** A registry of configured connections only. */
  ConnectionRegistry(Connection[] inOrder) {
    this(inOrder, List.of(), null, null);
  }

  ConnectionRegistry(
      Connection[] inOrder,
      List<ConnectionTemplate> templates,
      @Nullable TokenStore store,
      @Nullable Maker maker) {
    this.configured = inOrder.clone();
    this.byId = new ConnectionTable(this.configured);
    this.templates = List.copyOf(templates);
    this.store = store;
    this.maker = maker;
  }

  /** The connection known here as {@code id}, or null (the hot path's lookup). */
  @Nullable Connection find(ConnectionId id) {
    Connection c = byId.get(id);
    return c != null || dynamic.isEmpty() ? c : dynamic.get(id);
  }

  /**
   * The connection {@code id}: configured, known here, or made from its template when the store
   * holds tokens for it (authorized on another instance).
   *
   * @throws ConfigurationException if there is none, or it was removed
   */
  Connection get(ConnectionId id) {
    Connection c = find(Objects.requireNonNull(id, "id"));
    if (c != null) {
      return c;
    }
    ConnectionTemplate t = templateOf(id);
    if (t == null || store == null) {
      throw new ConfigurationException(
          id, null, "no such connection is configured; configured: " + sample());
    }
    StoredConnection stored = store.read(id);
    Tombstone tombstone = stored.tombstone();
    if (tombstone != null && REMOVAL_REASONS.contains(tombstone.reason())) {
      throw removed(id, tombstone);
    }
    if (stored.tokens() == null && tombstone == null) {
      throw new ConfigurationException(
          id,
          null,
          "not connected: no tokens are stored for this "
              + t.app
              + " connection; onboard it with startAuthorization (or import its tokens)");
    }
    return add(id, t);
  }

  static ConfigurationException removed(ConnectionId id, Tombstone tombstone) {
    return new ConfigurationException(
        id,
        null,
        "connection was removed ("
            + tombstone.reason()
            + " at "
            + tombstone.at()
            + "); onboard it again with startAuthorization");
  }

  /**
   * The connection {@code id}, made from its template if it is not known here yet, whatever the
   * store holds: for starting its authorization.
   *
   * @throws ConfigurationException if {@code id} is neither configured nor named by a template
   */
  Connection open(ConnectionId id) {
    Connection c = find(Objects.requireNonNull(id, "id"));
    if (c != null) {
      return c;
    }
    ConnectionTemplate t = templateOf(id);
    if (t == null) {
      throw new ConfigurationException(
          id,
          null,
          templates.isEmpty()
              ? "no such connection is configured; configured: " + sample()
              : "no such connection is configured, and no app's template names it; configured: "
                  + sample()
                  + ", templates: "
                  + patterns());
    }
    return add(id, t);
  }

  /** Adds {@code id} (named by {@code t}) unless known; returns the connection known now. */
  Connection add(ConnectionId id, ConnectionTemplate t) {
    Connection c = byId.get(id);
    if (c != null) {
      return c;
    }
    String subject = Objects.requireNonNull(t.subjectOf(id), "subject");
    return dynamic.computeIfAbsent(id, k -> Objects.requireNonNull(maker).make(k, t, subject));
  }

  private java.util.@Nullable Iterator<Connection> sweep;

  /**
   * The next {@code n} run-time connections of an endless round over all of them (for {@link
   * Discovery}'s sweep, a slice per poll rather than all at once). Not thread-safe: one caller.
   */
  List<Connection> nextRunTime(int n) {
    List<Connection> out = new ArrayList<>(Math.min(n, dynamic.size()));
    boolean restarted = false;
    while (out.size() < n) {
      if (sweep == null || !sweep.hasNext()) {
        if (restarted || dynamic.isEmpty()) {
          break; // one full round per call at most
        }
        sweep = dynamic.values().iterator();
        restarted = true;
      }
      out.add(sweep.next());
    }
    return out;
  }

  /** How many run-time connections are known here. */
  int runTimeCount() {
    return dynamic.size();
  }

  /** Forgets the run-time connection {@code conn}; true if it was known here. */
  boolean remove(Connection conn) {
    return dynamic.remove(conn.id, conn);
  }

  /** Whether {@code conn} is a run-time connection (made from a template). */
  boolean isRunTime(Connection conn) {
    return byId.get(conn.id) != conn;
  }

  /** The template naming {@code id}, or null. Configured connections are named by none. */
  @Nullable ConnectionTemplate templateOf(ConnectionId id) {
    for (ConnectionTemplate t : templates) {
      if (t.subjectOf(id) != null) {
        return t;
      }
    }
    return null;
  }

  /** The template of {@code app}. */
  ConnectionTemplate template(String app) {
    for (ConnectionTemplate t : templates) {
      if (t.app.equals(app)) {
        return t;
      }
    }
    throw new ConfigurationException(
        null,
        "apps." + app,
        "no app named '"
            + app
            + "' has a template"
            + (templates.isEmpty() ? " (none has)" : "; apps with one: " + apps()));
  }

  /**
   * The connection that stands for {@code app} while its subject is not known yet (a Kakao user
   * before the code exchange): named by the template itself ({@code kakao:{user}}), never served.
   */
  Connection appConnection(String app) {
    ConnectionTemplate t = template(app);
    return appConnections.computeIfAbsent(
        app, a -> Objects.requireNonNull(maker).make(ConnectionId.parse(t.pattern()), t, null));
  }

  /**
   * Replaces the template of {@code next.app} (new settings, same pattern); returns the run-time
   * connections of the app known here, for their providers to be rebuilt.
   */
  synchronized List<Connection> replaceTemplate(ConnectionTemplate next) {
    List<ConnectionTemplate> updated = new ArrayList<>();
    boolean found = false;
    for (ConnectionTemplate t : templates) {
      if (t.app.equals(next.app)) {
        if (!t.pattern().equals(next.pattern())) {
          throw new ConfigurationException(
              null,
              "apps." + next.app + ".template",
              "cannot change at run time (from '" + t.pattern() + "'): restart to rename");
        }
        updated.add(next);
        found = true;
      } else {
        updated.add(t);
      }
    }
    if (!found) {
      template(next.app); // throws: no such app
    }
    templates = List.copyOf(updated);
    appConnections.remove(next.app);
    List<Connection> of = new ArrayList<>();
    for (Connection c : dynamic.values()) {
      if (next.subjectOf(c.id) != null) {
        of.add(c);
      }
    }
    return of;
  }

  boolean hasTemplates() {
    return !templates.isEmpty();
  }

  /** Every connection: the configured ones in configuration order, then the run-time ones. */
  Connection[] inOrder() {
    if (dynamic.isEmpty()) {
      return configured;
    }
    List<Connection> all = new ArrayList<>(configured.length + dynamic.size());
    Collections.addAll(all, configured);
    all.addAll(dynamic.values());
    return all.toArray(new Connection[0]);
  }

  int size() {
    return configured.length + dynamic.size();
  }

  Set<ConnectionId> ids() {
    TreeSet<ConnectionId> ids = new TreeSet<>();
    for (Connection c : configured) {
      ids.add(c.id);
    }
    ids.addAll(dynamic.keySet());
    return Collections.unmodifiableSet(ids);
  }

  private List<String> patterns() {
    List<String> out = new ArrayList<>();
    templates.forEach(t -> out.add(t.pattern()));
    return out;
  }

  private List<String> apps() {
    List<String> out = new ArrayList<>();
    templates.forEach(t -> out.add(t.app));
    return out;
  }

  /** The configured ids for an error message: all of a few, the first ten of many. */
  private String sample() {
    StringBuilder b = new StringBuilder("[");
    for (int i = 0; i < configured.length && i < 10; i++) {
      b.append(i == 0 ? "" : ", ").append(configured[i].id);
    }
    if (configured.length > 10) {
      b.append(", … ").append(configured.length - 10).append(" more");
    }
    return b.append(']').toString();
  }
}
