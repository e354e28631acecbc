package dev.tokenbroker.jdbc;

import dev.tokenbroker.store.TokenStoreException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The store's table, schema version by schema version: the SQL scripts under {@code
 * db/tokenbroker/<dialect>/} (the same files Flyway runs as versioned migrations and the Liquibase
 * changelog beside them runs as changesets), and how the store applies them itself.
 *
 * <p>The store finds out which version a table has by what it can select, not from a history table:
 * a version 1 table lacks the {@link #V2_COLUMNS}, a version 2 table the {@link #V3_COLUMNS} and
 * the one-time record table. It runs only the scripts whose change is missing, so it takes no DDL
 * lock on a table that is up to date, and a failure of a script that another instance ran at the
 * same moment is forgiven when the change is there afterwards.
 */
final class JdbcSchema {
  private static final Logger log = LoggerFactory.getLogger(JdbcSchema.class);

  /** The table name the scripts use. */
  static final String SCRIPT_TABLE = JdbcTokenStore.DEFAULT_TABLE;

  /** Schema version 1: the table. */
  static final String V1 = "V1__create_tokenbroker_tokens.sql";

  /** Schema version 2: health record, tombstone, renewal marker. */
  static final String V2 = "V2__add_health_tombstone_and_renewal_marker.sql";

  /** Schema version 3: registry changes, one-time records. */
  static final String V3 = "V3__add_registry_changes_and_one_time_records.sql";

  /** Every script, oldest first. */
  static final List<String> SCRIPTS = List.of(V1, V2, V3);

  static final List<String> V1_COLUMNS =
      List.of(
          "connection_id",
          "version",
          "token_data",
          "updated_at_ms",
          "lease_owner",
          "lease_fence",
          "lease_expires_at_ms");

  static final List<String> V2_COLUMNS =
      List.of(
          "health_data", "health_version", "tombstone_data", "renewing_fence", "renewing_since_ms");

  static final List<String> V3_COLUMNS = List.of("changed_at_ms");

  /** The columns of the one-time record table, {@link #onceTable}. */
  static final List<String> ONCE_COLUMNS = List.of("once_key", "once_value", "expires_at_ms");

  /**
   * The script's table name, or a name derived from it: {@code tokenbroker_tokens_once} (a table)
   * and {@code tokenbroker_tokens_…_idx} (an index, named without the table's schema). Any other
   * name that merely starts with the table's is left alone.
   */
  private static final Pattern TABLE_NAME =
      Pattern.compile("\\b" + SCRIPT_TABLE + "(_once|_\\w+_idx)?\\b");

  /** The table of the one-time records that go with {@code table}: {@code <table>_once}. */
  static String onceTable(String table) {
    return table + "_once";
  }

  private JdbcSchema() {}

  /** The resource path of {@code script} for {@code dialect}. */
  static String resource(Dialect dialect, String script) {
    if (dialect.folder == null) {
      throw new IllegalArgumentException("no schema scripts for " + dialect);
    }
    return "db/tokenbroker/" + dialect.folder + "/" + script;
  }

  /** The text of {@code script} for {@code dialect}, as shipped. */
  static String text(Dialect dialect, String script) {
    String path = resource(dialect, script);
    try (InputStream in = JdbcSchema.class.getClassLoader().getResourceAsStream(path)) {
      if (in == null) {
        throw new IllegalStateException("missing resource " + path);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new IllegalStateException("cannot read resource " + path, e);
    }
  }

  /**
   * The statements of a script: comment lines dropped, split at the semicolons that end lines,
   * {@value #SCRIPT_TABLE} replaced by {@code table}.
   */
  static List<String> statements(String scriptText, String table) {
    List<String> out = new ArrayList<>();
    StringBuilder current = new StringBuilder();
    for (String line : scriptText.split("\\R")) {
      String trimmed = line.strip();
      if (trimmed.isEmpty() || trimmed.startsWith("--")) {
        continue;
      }
      if (trimmed.endsWith(";")) {
        current.append(trimmed, 0, trimmed.length() - 1);
        add(out, current);
      } else {
        current.append(line).append('\n');
      }
    }
    add(out, current);
    String unqualified = table.substring(table.indexOf('.') + 1);
    List<String> named = new ArrayList<>(out.size());
    for (String s : out) {
      named.add(
          TABLE_NAME
              .matcher(s)
              .replaceAll(
                  m -> {
                    String suffix = m.group(1);
                    String name =
                        suffix == null
                            ? table
                            : suffix.endsWith("_idx") ? unqualified + suffix : table + suffix;
                    return Matcher.quoteReplacement(name);
                  }));
    }
    return named;
  }

  private static void add(List<String> out, StringBuilder current) {
    String s = current.toString().strip();
    if (!s.isEmpty()) {
      out.add(s);
    }
    current.setLength(0);
  }

  /**
   * For {@link JdbcTokenStore.Builder#build()}: connects once to learn the database product, brings
   * {@code table} to the newest schema version when {@code createSchema}, and checks that the table
   * has every column the store uses.
   *
   * @return the database's dialect
   * @throws TokenStoreException if the database cannot be reached, the schema cannot be created or
   *     upgraded, or the table lacks a column
   */
  static Dialect prepare(DataSource dataSource, String table, boolean createSchema) {
    try (Connection c = dataSource.getConnection()) {
      DatabaseMetaData meta = c.getMetaData();
      Dialect dialect = Dialect.of(meta.getDatabaseProductName());
      boolean autoCommit = c.getAutoCommit();
      c.setAutoCommit(true);
      try {
        if (createSchema) {
          if (dialect == Dialect.OTHER) {
            throw new TokenStoreException(
                null,
                "table "
                    + table
                    + ": cannot create the schema on "
                    + meta.getDatabaseProductName()
                    + "; create the table from the scripts in db/tokenbroker/postgresql/"
                    + " (adapted to your database) and set create-schema: false",
                null);
          }
          migrate(c, dialect, table);
        }
        // Fails early, naming the table, if it is missing or lacks a column.
        try (Statement st = c.createStatement()) {
          st.executeQuery(
                  "SELECT " + String.join(", ", V1_COLUMNS) + " FROM " + table + " WHERE 1 = 0")
              .close();
        }
        if (!has(c, table, V2_COLUMNS)) {
          throw new TokenStoreException(
              null,
              "table "
                  + table
                  + " has schema version 1 but this release needs version 2: apply "
                  + (dialect.folder == null ? V2 : resource(dialect, V2))
                  + " (Flyway or Liquibase: see the module README) or set create-schema: true",
              null);
        }
        if (!hasVersionThree(c, table)) {
          throw new TokenStoreException(
              null,
              "table "
                  + table
                  + " has schema version 2 but this release needs version 3: apply "
                  + (dialect.folder == null ? V3 : resource(dialect, V3))
                  + " (Flyway or Liquibase: see the module README) or set create-schema: true",
              null);
        }
        return dialect;
      } finally {
        c.setAutoCommit(autoCommit);
      }
    } catch (SQLException e) {
      throw new TokenStoreException(
          null, "table " + table + ": cannot set up the token store: " + SqlErrors.describe(e), e);
    }
  }

  /** True if {@code table} exists and has every one of {@code columns}. */
  static boolean has(Connection c, String table, List<String> columns) {
    try (Statement st = c.createStatement()) {
      st.executeQuery("SELECT " + String.join(", ", columns) + " FROM " + table + " WHERE 1 = 0")
          .close();
      return true;
    } catch (SQLException e) {
      return false;
    }
  }

  /** True if {@code table} has the version 3 column and its one-time record table exists. */
  static boolean hasVersionThree(Connection c, String table) {
    return has(c, table, V3_COLUMNS) && has(c, onceTable(table), ONCE_COLUMNS);
  }

  /**
   * Brings {@code table} to the newest schema version, running each missing version's script.
   * {@code c} is in auto-commit mode.
   */
  static void migrate(Connection c, Dialect dialect, String table) throws SQLException {
    // One migration at a time in this JVM (H2 fails on concurrent DDL on one table); other
    // processes are covered by the retries below.
    synchronized (JdbcSchema.class) {
      apply(c, dialect, table, V1, () -> has(c, table, V1_COLUMNS));
      apply(c, dialect, table, V2, () -> has(c, table, V2_COLUMNS));
      apply(c, dialect, table, V3, () -> hasVersionThree(c, table));
    }
  }

  private static void apply(
      Connection c, Dialect dialect, String table, String script, BooleanSupplier done)
      throws SQLException {
    for (int attempt = 1; ; attempt++) {
      if (done.getAsBoolean()) {
        return;
      }
      try (Statement st = c.createStatement()) {
        for (String sql : statements(text(dialect, script), table)) {
          st.execute(sql);
        }
        log.info("token store table {}: applied {}", table, script);
        return;
      } catch (SQLException e) {
        // Another instance may be making the same change at the same moment: look again.
        if (done.getAsBoolean()) {
          return;
        }
        if (attempt == 3) {
          throw e;
        }
      }
    }
  }
}
