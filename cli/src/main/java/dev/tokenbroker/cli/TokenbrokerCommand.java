package dev.tokenbroker.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.TokenBroker;
import dev.tokenbroker.TokenBrokerBuilder;
import dev.tokenbroker.TokenListener;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.function.Predicate;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/** {@code tokenbroker}: the root command, holding the options every subcommand shares. */
@Command(
    name = "tokenbroker",
    mixinStandardHelpOptions = true,
    versionProvider = VersionProvider.class,
    sortOptions = false,
    usageHelpAutoWidth = true,
    description =
        "Keeps OAuth tokens of Cafe24, Naver Commerce and Kakao connections alive. Connections are described in tokenbroker.yaml (see --config); secrets come from $${ENV_VARS}.",
    subcommands = {
      ConnectCommand.class,
      TokenCommand.class,
      StatusCommand.class,
      RefreshCommand.class,
      RevokeCommand.class,
      ValidateCommand.class,
      RunCommand.class,
      ImportCommand.class,
      ExportCommand.class,
      ServeCommand.class,
      DemoCommand.class
    },
    footer = {
      "",
      "Exit codes: 0 ok, 1 failure, 2 usage or configuration error,",
      "  3 re-authorization required, 4 temporarily unavailable (retry later)."
    })
final class TokenbrokerCommand implements Callable<Integer> {
  static final String DEFAULT_CONFIG = "tokenbroker.yaml";

  final Console console;

  @Spec @Nullable CommandSpec spec;

  @Option(
      names = {"-c", "--config"},
      paramLabel = "FILE",
      scope = ScopeType.INHERIT,
      description = "YAML or .properties configuration (default: " + DEFAULT_CONFIG + ")")
  @Nullable Path config;

  @Option(
      names = {"-v", "--verbose"},
      scope = ScopeType.INHERIT,
      description = "show stack traces and library logs")
  boolean verbose;

  TokenbrokerCommand(Console console) {
    this.console = console;
  }

  @Override
  public Integer call() {
    // No subcommand: show what there is.
    if (spec != null) {
      spec.commandLine().usage(console.out);
    }
    return ExitCode.USAGE;
  }

  /** The configuration file to use, resolved against the working directory; must exist. */
  Path configFile() {
    Path file = console.workingDirectory.resolve(config != null ? config : Path.of(DEFAULT_CONFIG));
    if (!Files.isRegularFile(file)) {
      throw new UsageException(
          config == null
              ? "no "
                  + DEFAULT_CONFIG
                  + " in "
                  + console.workingDirectory
                  + " — create one (see cli/README.md) or pass --config FILE"
              : "configuration file " + file + " does not exist");
    }
    return file;
  }

  /** A broker from the configuration file, on the console's clock and environment. */
  TokenBroker broker(@Nullable TokenListener listener) {
    return broker(
        listener, TokenBroker.builder().withoutKeepAlive()); // one-shot: no background passes
  }

  /**
   * A one-shot broker with only the configuration file's connections {@code filter} accepts: the
   * others' settings (an unset {@code ${VAR}} among them) are not read, so they cannot stop it.
   */
  TokenBroker broker(@Nullable TokenListener listener, Predicate<ConnectionId> filter) {
    return broker(listener, TokenBroker.builder().withoutKeepAlive().configFileConnections(filter));
  }

  /** Like {@link #broker(TokenListener, Predicate)}, with {@code more} applied to the builder. */
  TokenBroker broker(
      @Nullable TokenListener listener,
      Predicate<ConnectionId> filter,
      java.util.function.UnaryOperator<TokenBrokerBuilder> more) {
    return broker(
        listener,
        more.apply(TokenBroker.builder().withoutKeepAlive().configFileConnections(filter)));
  }

  TokenBroker broker(@Nullable TokenListener listener, TokenBrokerBuilder builder) {
    Path file = configFile();
    builder.configFile(file).environment(console.environment).clock(console.clock);
    if (listener != null) {
      builder.listener(listener);
    }
    TokenBroker broker = console.brokerSetup.apply(builder).build(); // a bad setting first
    try {
      refuseMemoryStore(file);
    } catch (UsageException e) {
      broker.close();
      throw e;
    }
    return broker;
  }

  /**
   * Every command is a separate process: with the in-memory store (the library's default when there
   * is no {@code store:} section) nothing would survive from one command to the next — {@code
   * connect} would succeed and {@code token} would not find the connection, and a Cafe24 refresh
   * would spend the only refresh token. Refused with the fix.
   */
  static void refuseMemoryStore(Path file) {
    String type = storeType(file);
    if (type != null && type.equals("memory")) {
      throw new UsageException(
          file
              + " keeps tokens in memory (store: type memory, the default without a store: section),"
              + " so nothing would survive this command — add a durable store, e.g. `store: {"
              + " type: file, path: tokens, key-file: store.key }`");
    }
  }

  /** The file's {@code store.type} ("memory" when absent); null when it cannot be told. */
  static @Nullable String storeType(Path file) {
    Map<String, String> store = storeSection(file);
    if (store == null) {
      return null;
    }
    String type = store.getOrDefault("type", "memory").trim();
    return type.contains("${") ? null : type;
  }

  /**
   * The directory of the file store the configuration names, resolved against the file's directory
   * as the library does; null when the store is not a file store or its path uses a {@code ${VAR}}
   * (then only the library can tell).
   */
  static @Nullable Path fileStoreDirectory(Path file) {
    Map<String, String> store = storeSection(file);
    String path = store == null ? null : store.get("path");
    if (!"file".equals(storeType(file)) || path == null || path.contains("${")) {
      return null;
    }
    try {
      Path dir = file.toAbsolutePath().getParent();
      return dir == null ? Path.of(path) : dir.resolve(path).normalize();
    } catch (java.nio.file.InvalidPathException e) {
      return null;
    }
  }

  /**
   * A quick look at the file's {@code store:} section, as text values, without the library (which
   * reads the file for real and reports what is wrong with it); null when it cannot be read.
   */
  private static @Nullable Map<String, String> storeSection(Path file) {
    try {
      Map<String, String> store = new java.util.LinkedHashMap<>();
      String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
      if (name.endsWith(".properties")) {
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
          p.load(r);
        }
        for (String key : p.stringPropertyNames()) {
          if (key.startsWith("store.")) {
            store.put(key.substring("store.".length()), p.getProperty(key));
          }
        }
        return store;
      }
      JsonNode root = new ObjectMapper(new YAMLFactory()).readTree(file.toFile());
      if (root == null || !root.isObject()) {
        return null;
      }
      JsonNode section = root.path("store");
      if (section.isObject()) {
        section.fields().forEachRemaining(e -> store.put(e.getKey(), e.getValue().asText()));
      } else if (!section.isMissingNode() && !section.isNull()) {
        return null;
      }
      return store;
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }
}
