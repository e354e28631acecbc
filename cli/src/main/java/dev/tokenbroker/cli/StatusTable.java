package dev.tokenbroker.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.Health;
import dev.tokenbroker.TokenBroker;
import dev.tokenbroker.TokenBrokerException;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Every connection's health as a table for people or JSON for machines. Reads health only: never
 * contacts a platform, never renews, never shows a token.
 */
final class StatusTable {
  private static final String[] HEADERS = {
    "CONNECTION",
    "PROVIDER",
    "HEALTH",
    "ACCESS EXPIRES IN",
    "REFRESH EXPIRES IN",
    "LAST RENEWAL",
    "REASON"
  };

  /** The HEALTH of a connection whose settings could not be read; `status` then exits 2. */
  static final String CONFIGURATION_ERROR = "CONFIGURATION_ERROR";

  private final List<Map.Entry<ConnectionId, Health>> rows;
  private final Instant now;
  private final Map<ConnectionId, String> misconfigured;

  private StatusTable(
      List<Map.Entry<ConnectionId, Health>> rows,
      Instant now,
      Map<ConnectionId, String> misconfigured) {
    this.rows = rows;
    this.now = now;
    this.misconfigured = misconfigured;
  }

  /** This table plus connections whose configuration could not be read (their one-line error). */
  StatusTable withMisconfigured(Map<ConnectionId, String> errors) {
    return new StatusTable(rows, now, new java.util.TreeMap<>(errors));
  }

  /** A snapshot of every connection of {@code broker}. */
  static StatusTable of(TokenBroker broker, Instant now) {
    List<Map.Entry<ConnectionId, Health>> rows = new ArrayList<>();
    try {
      broker.discover(); // connections made at run time from a template, as the store knows them
    } catch (RuntimeException e) {
      // a store that cannot be read shows in every row's health
    }
    for (ConnectionId id : broker.connections()) {
      rows.add(Map.entry(id, broker.health(id)));
    }
    return new StatusTable(rows, now, Map.of());
  }

  boolean isEmpty() {
    return rows.isEmpty() && misconfigured.isEmpty();
  }

  /** The worst state in the table as an exit code: 0 all ACTIVE, 4 any DEGRADED, 3 any re-auth. */
  int exitCode() {
    if (!misconfigured.isEmpty()) {
      return ExitCode.USAGE;
    }
    int code = ExitCode.OK;
    for (Map.Entry<ConnectionId, Health> row : rows) {
      Health.State state = row.getValue().state();
      if (state == Health.State.REAUTHORIZATION_REQUIRED) {
        return ExitCode.REAUTHORIZATION_REQUIRED;
      }
      if (state == Health.State.DEGRADED) {
        code = ExitCode.UNAVAILABLE;
      }
    }
    return code;
  }

  void printTable(PrintWriter out) {
    List<String[]> lines = new ArrayList<>();
    lines.add(HEADERS);
    for (Map.Entry<ConnectionId, Health> row : rows) {
      Health h = row.getValue();
      lines.add(
          new String[] {
            row.getKey().toString(),
            row.getKey().provider(),
            h.state().toString(),
            Text.left(h.accessTokenExpiresAt(), now),
            Text.left(h.refreshTokenExpiresAt(), now),
            lastRenewal(h) == null ? Text.NONE : Text.relative(lastRenewal(h), now),
            reason(h)
          });
    }
    for (Map.Entry<ConnectionId, String> bad : misconfigured.entrySet()) {
      lines.add(
          new String[] {
            bad.getKey().toString(),
            bad.getKey().provider(),
            CONFIGURATION_ERROR,
            Text.NONE,
            Text.NONE,
            Text.NONE,
            bad.getValue() + " — fix the configuration file"
          });
    }
    int[] widths = new int[HEADERS.length];
    for (String[] line : lines) {
      for (int i = 0; i < line.length; i++) {
        widths[i] = Math.max(widths[i], line[i].length());
      }
    }
    for (String[] line : lines) {
      StringBuilder b = new StringBuilder();
      for (int i = 0; i < line.length; i++) {
        b.append(i == line.length - 1 ? line[i] : Text.pad(line[i], widths[i] + 2));
      }
      out.println(b.toString().stripTrailing());
    }
    if (rows.isEmpty()) {
      out.println("(no connections configured)");
    }
  }

  /** Tokens that were revoked or unlinked have no "last renewal": nothing of them is left. */
  private static @Nullable Instant lastRenewal(Health h) {
    String code = h.reasonCode();
    boolean gone =
        h.state() == Health.State.REAUTHORIZATION_REQUIRED
            && ("revoked".equals(code) || "unlinked".equals(code) || "uninstalled".equals(code));
    return gone ? null : h.lastRenewalAt();
  }

  private String reason(Health h) {
    if (h.state() == Health.State.ACTIVE) {
      return h.unsaved() ? "token set not saved yet; retrying" : "";
    }
    String reason =
        (h.reasonCode() == null ? "" : "[" + h.reasonCode() + "] ")
            + (h.reason() == null ? "" : h.reason());
    if (h.state() == Health.State.DEGRADED && h.nextAttemptAt() != null) {
      reason += " (next attempt " + Text.relative(h.nextAttemptAt(), now) + ")";
    }
    return reason;
  }

  void printJson(PrintWriter out) {
    ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    ObjectNode root = mapper.createObjectNode();
    root.put("at", now.toString());
    ArrayNode list = root.putArray("connections");
    for (Map.Entry<ConnectionId, Health> row : rows) {
      Health h = row.getValue();
      ObjectNode o = list.addObject();
      o.put("connection", row.getKey().toString());
      o.put("provider", row.getKey().provider());
      o.put("health", h.state().toString());
      o.put("reasonCode", h.reasonCode());
      o.put("reason", h.reason());
      o.put("errorCode", h.errorCode());
      o.put("since", h.since().toString());
      putInstant(o, "nextAttemptAt", h.nextAttemptAt());
      o.put("consecutiveFailures", h.consecutiveFailures());
      putInstant(o, "accessTokenExpiresAt", h.accessTokenExpiresAt());
      putSeconds(o, "accessTokenExpiresInSeconds", h.accessTokenExpiresAt());
      putInstant(o, "refreshTokenExpiresAt", h.refreshTokenExpiresAt());
      putSeconds(o, "refreshTokenExpiresInSeconds", h.refreshTokenExpiresAt());
      putInstant(o, "lastRenewalAt", lastRenewal(h));
      o.put("unsaved", h.unsaved());
    }
    for (Map.Entry<ConnectionId, String> bad : misconfigured.entrySet()) {
      ObjectNode o = list.addObject();
      o.put("connection", bad.getKey().toString());
      o.put("provider", bad.getKey().provider());
      o.put("health", CONFIGURATION_ERROR);
      o.put("reason", bad.getValue());
    }
    try {
      out.println(mapper.writeValueAsString(root));
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new TokenBrokerException(null, "cannot write JSON: " + e.getOriginalMessage(), e);
    }
  }

  private static void putInstant(ObjectNode o, String name, @Nullable Instant at) {
    if (at == null) {
      o.putNull(name);
    } else {
      o.put(name, at.toString());
    }
  }

  private void putSeconds(ObjectNode o, String name, @Nullable Instant at) {
    if (at == null) {
      o.putNull(name);
    } else {
      o.put(name, Duration.between(now, at).getSeconds());
    }
  }
}
