package dev.tokenbroker;

import dev.tokenbroker.spi.ProviderContext;
import dev.tokenbroker.spi.Settings;
import dev.tokenbroker.spi.TokenProvider;
import dev.tokenbroker.spi.TokenProviderFactory;
import dev.tokenbroker.store.InMemoryTokenStore;
import dev.tokenbroker.store.TokenStore;
import dev.tokenbroker.store.TokenStoreFactory;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.ServiceLoader;
import java.util.TreeMap;
import okhttp3.OkHttpClient;
import org.jspecify.annotations.Nullable;

/**
 * Builds each connection's provider from its settings, at start-up and whenever settings change
 * under a running service ({@link Reconfiguration}): the factory its {@code provider} setting names
 * (found with {@link ServiceLoader}, or given in code, which wins), with the connection's own HTTP
 * client ({@link NetworkSettings}: proxy and timeouts are the broker's, not the provider's), and a
 * check that the provider serves the platform the id names. Templates are checked the same way, for
 * stand-in subjects. The store a configuration file names is found with {@link ServiceLoader} too.
 */
final class ProviderFactories {
  private final Clock clock;
  private final Map<String, String> env;
  private final Map<String, TokenProviderFactory> byName;

  /** Names two different factory classes on the class path claim, none registered in code. */
  private final Map<String, List<String>> ambiguous = new TreeMap<>();

  private final OkHttpClient http;
  private final SecureRandom random;
  private long maxReadTimeoutMillis; // of the connections' own clients

  ProviderFactories(
      Clock clock,
      Map<String, String> env,
      ClassLoader loader,
      List<TokenProviderFactory> explicit,
      OkHttpClient http,
      SecureRandom random) {
    this.clock = clock;
    this.env = env;
    this.byName = factories(loader, explicit, ambiguous);
    this.http = http;
    this.random = random;
  }

  private static Map<String, TokenProviderFactory> factories(
      ClassLoader loader,
      List<TokenProviderFactory> explicit,
      Map<String, List<String>> ambiguous) {
    Map<String, TokenProviderFactory> byName = new TreeMap<>();
    for (TokenProviderFactory f : ServiceLoader.load(TokenProviderFactory.class, loader)) {
      TokenProviderFactory first = byName.putIfAbsent(f.name(), f);
      if (first != null && first.getClass() != f.getClass()) {
        // Which one the class path order picks is nobody's decision: refused where it is used.
        ambiguous
            .computeIfAbsent(f.name(), n -> new ArrayList<>(List.of(first.getClass().getName())))
            .add(f.getClass().getName());
      }
    }
    for (TokenProviderFactory f : explicit) {
      byName.put(f.name(), f); // explicit registrations win
      ambiguous.remove(f.name());
    }
    return byName;
  }

  /** The longest read timeout of any connection's own client built so far. */
  long maxReadTimeoutMillis() {
    return maxReadTimeoutMillis;
  }

  /** The configured connections, each with its provider built and checked. */
  Connection[] connections(Map<ConnectionId, Object> providersOrSettings) {
    Instant now = clock.instant();
    List<Connection> built = new ArrayList<>();
    for (Map.Entry<ConnectionId, Object> e : providersOrSettings.entrySet()) {
      built.add(new Connection(e.getKey(), build(e.getKey(), e.getValue(), null), now));
    }
    return built.toArray(new Connection[0]);
  }

  /**
   * The apps' templates (app → pattern, settings), parsed and checked: no two name the same
   * connections, and each one's settings build a provider, as a configured connection's must.
   */
  List<ConnectionTemplate> templates(Map<String, Object[]> patternsAndSettings) {
    List<ConnectionTemplate> parsed = new ArrayList<>();
    for (Map.Entry<String, Object[]> e : patternsAndSettings.entrySet()) {
      @SuppressWarnings("unchecked")
      Map<String, Object> settings = (Map<String, Object>) e.getValue()[1];
      ConnectionTemplate t =
          ConnectionTemplate.parse(e.getKey(), (String) e.getValue()[0], settings);
      for (ConnectionTemplate other : parsed) {
        if (t.overlaps(other)) {
          throw new ConfigurationException(
              null,
              "apps." + t.app + ".template",
              "'" + t.pattern() + "' names the same connections as app '" + other.app + "'");
        }
      }
      parsed.add(t);
      // validated now, as a configured connection is: a bad secret fails at start-up
      probe(t);
    }
    return parsed;
  }

  /**
   * Checks a template's settings at start-up as a configured connection's are: builds its provider
   * for a stand-in subject. Subjects have platform rules (a Kakao user id is a number, a Cafe24
   * mall id lower-case), so a few stand-ins are tried; a setting wrong for every one (a bad secret,
   * an unknown setting) is reported.
   */
  void probe(ConnectionTemplate t) {
    ConfigurationException last = null;
    for (String subject : new String[] {"1", "probe", "a"}) {
      try {
        ConnectionId id = t.idFor(subject);
        provider(id, t.settings, subject);
        return;
      } catch (ConfigurationException e) {
        last = e;
      }
    }
    throw Objects.requireNonNull(last);
  }

  /** A provider for {@code id} built from {@code settings}, as at start-up. */
  TokenProvider provider(ConnectionId id, Map<String, Object> settings, @Nullable String subject) {
    return build(id, new Settings(id, settings), subject);
  }

  /** {@code providerOrSettings}: a provider given in code, or {@link Settings} to build one. */
  private TokenProvider build(
      ConnectionId id, Object providerOrSettings, @Nullable String subject) {
    TokenProvider provider;
    if (providerOrSettings instanceof TokenProvider) {
      provider = (TokenProvider) providerOrSettings;
    } else {
      // Settings given in code were made before the environment was known.
      Settings given = (Settings) providerOrSettings;
      // proxy, connect-timeout, read-timeout: the broker's, not the provider's (NetworkSettings)
      OkHttpClient connectionHttp =
          NetworkSettings.client(http, new Settings(given.connection(), given.asMap(), env::get));
      maxReadTimeoutMillis = Math.max(maxReadTimeoutMillis, connectionHttp.readTimeoutMillis());
      Settings settings =
          new Settings(given.connection(), NetworkSettings.withoutNetwork(given.asMap()), env::get);
      String name = settings.optional("provider", id.provider());
      if (!name.equals(id.provider())) {
        throw settings.invalid(
            "provider",
            "is '" + name + "' but the connection id names provider '" + id.provider() + "'");
      }
      TokenProviderFactory factory = byName.get(name);
      if (ambiguous.containsKey(name)) {
        throw settings.invalid(
            "provider",
            "'"
                + name
                + "' is offered by more than one factory on the class path "
                + ambiguous.get(name)
                + "; remove one, or register the one to use with providerFactory(...)");
      }
      if (factory == null) {
        throw settings.invalid(
            "provider",
            "unknown provider '"
                + name
                + "'; available: "
                + byName.keySet()
                + " (is tokenbroker-"
                + name
                + " on the classpath?)");
      }
      provider =
          factory.create(settings, new ProviderContext(id, clock, connectionHttp, random, subject));
    }
    if (!provider.name().equals(id.provider())) {
      throw new ConfigurationException(
          id,
          "provider",
          "provider '" + provider.name() + "' cannot serve a '" + id.provider() + "' connection");
    }
    return provider;
  }

  /** The store a configuration file's {@code store:} section names, by its {@code type}. */
  static TokenStore store(Settings settings, ClassLoader loader, Clock clock) {
    String type = settings.optional("type", "memory");
    for (TokenStoreFactory f : ServiceLoader.load(TokenStoreFactory.class, loader)) {
      if (f.type().equals(type)) {
        return f.create(settings, clock);
      }
    }
    if (type.equals("memory")) {
      return new InMemoryTokenStore(clock);
    }
    throw settings.invalid(
        "type",
        "unknown store type '" + type + "' (is tokenbroker-store-" + type + " on the classpath?)");
  }
}
