package dev.tokenbroker.serve;

import dev.tokenbroker.ConnectionId;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Request;
import org.jspecify.annotations.Nullable;

/**
 * Who is asking, per transport. On the Unix socket the file mode already decided (only the owner,
 * or the configured group, can connect): every caller may read every connection. On TCP the caller
 * presents {@code Authorization: Bearer SECRET}; the secret is hashed and compared with every
 * client's hash in constant time ({@link MessageDigest#isEqual}), all of them, so neither timing
 * nor the order of clients tells which one came close. The {@code Host} header must be one of the
 * configured names (a page in a browser that rebinds its own DNS name to 127.0.0.1 sends its own
 * name).
 */
final class AccessControl {
  /** A caller: a name for the log, and what it may read. */
  interface Caller {
    String name();

    boolean mayRead(ConnectionId id);
  }

  /** A refusal of the credentials; the message names no secret. */
  static final class Refused extends Exception {
    private static final long serialVersionUID = 1L;

    Refused(String message) {
      super(message, null, false, false);
    }
  }

  record Verdict(int status, String code, String message) {}

  private record Client(String name, byte[] secretHash, ServeConfig.Client config)
      implements Caller {
    @Override
    public boolean mayRead(ConnectionId id) {
      return config.mayRead(id);
    }
  }

  private static final Caller SOCKET =
      new Caller() {
        @Override
        public String name() {
          return "socket";
        }

        @Override
        public boolean mayRead(ConnectionId id) {
          return true;
        }
      };

  private final @Nullable Connector socket;
  private final List<Client> clients;
  private final Set<String> allowedHosts;

  /** Reads every client's secret file (refusing one that group or others can read). */
  AccessControl(ServeConfig config, @Nullable Connector socket) {
    this.socket = socket;
    this.allowedHosts = config.allowedHosts();
    List<Client> list = new ArrayList<>();
    for (ServeConfig.Client c : config.clients()) {
      byte[] secret =
          FileChecks.readSecret(c.secretFile(), "clients[" + c.name() + "].secret-file");
      list.add(new Client(c.name(), sha256(secret), c));
      java.util.Arrays.fill(secret, (byte) 0);
    }
    this.clients = List.copyOf(list);
  }

  String transport(Connector connector) {
    return connector == socket ? "socket" : "tcp";
  }

  /** Null if the Host header is acceptable (always on the socket). */
  @Nullable Verdict checkHost(Connector connector, Request request) {
    if (connector == socket) {
      return null;
    }
    String host = request.getHeaders().get(HttpHeader.HOST);
    if (host == null) {
      return new Verdict(400, "bad-host", "a Host header is required");
    }
    String name = host.toLowerCase(Locale.ROOT);
    if (name.startsWith("[")) {
      int end = name.indexOf(']');
      name = end < 0 ? name : name.substring(0, end + 1);
    } else {
      int colon = name.lastIndexOf(':');
      name = colon < 0 ? name : name.substring(0, colon);
    }
    if (!allowedHosts.contains(name)) {
      return new Verdict(
          421, "host-not-allowed", "Host is not one of this server's names (tcp.allowed-hosts)");
    }
    return null;
  }

  Caller authenticate(Connector connector, Request request) throws Refused {
    if (connector == socket) {
      return SOCKET;
    }
    String header = request.getHeaders().get(HttpHeader.AUTHORIZATION);
    if (header == null || header.isBlank()) {
      throw new Refused("missing Authorization: Bearer <client secret>");
    }
    if (!header.regionMatches(true, 0, "Bearer ", 0, 7)) {
      throw new Refused("Authorization must be Bearer <client secret>");
    }
    Caller match = clientBySecret(header.substring(7).strip());
    if (match == null) {
      throw new Refused("unknown client secret");
    }
    return match;
  }

  /** Whether any TCP client is configured (the status page needs one to sign in with). */
  boolean hasClients() {
    return !clients.isEmpty();
  }

  /**
   * The TCP client whose secret this is, or null: the secret's hash is compared with every client's
   * in constant time, without stopping at a match.
   */
  @Nullable Caller clientBySecret(String secret) {
    byte[] presented = sha256(secret.getBytes(StandardCharsets.UTF_8));
    Client match = null;
    for (Client c : clients) {
      // No early exit: every client is compared.
      if (MessageDigest.isEqual(c.secretHash(), presented) && match == null) {
        match = c;
      }
    }
    return match;
  }

  static byte[] sha256(byte[] bytes) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(bytes);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
