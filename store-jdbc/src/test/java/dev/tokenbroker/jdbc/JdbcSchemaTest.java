package dev.tokenbroker.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * The shipped scripts of every dialect, MySQL's included (no MySQL server runs in the build): what
 * the store runs of them, and the Liquibase changelogs beside them.
 */
class JdbcSchemaTest {
  @ParameterizedTest
  @EnumSource(
      value = Dialect.class,
      names = {"POSTGRESQL", "MYSQL", "H2"})
  void versionThree_namesTheOnceTableAfterTheTable_andIndexesWithoutTheSchema(Dialect dialect) {
    String all =
        String.join("\n", JdbcSchema.statements(JdbcSchema.text(dialect, JdbcSchema.V3), "app.tb"));

    assertThat(all)
        .contains("ALTER TABLE app.tb")
        .contains("CREATE TABLE IF NOT EXISTS app.tb_once (")
        .contains(" tb_changed_idx ")
        .contains(" tb_once_expires_idx")
        .doesNotContain("app.tb_changed_idx")
        .doesNotContain("tokenbroker_tokens")
        .doesNotContain(";");
    for (String column : JdbcSchema.ONCE_COLUMNS) {
      assertThat(all).contains(column);
    }
    assertThat(all).contains("changed_at_ms");
  }

  @ParameterizedTest
  @EnumSource(
      value = Dialect.class,
      names = {"POSTGRESQL", "MYSQL", "H2"})
  void scripts_splitIntoStatementsOnTheConfiguredTable(Dialect dialect) {
    List<String> v1 = JdbcSchema.statements(JdbcSchema.text(dialect, JdbcSchema.V1), "app.tb");
    List<String> v2 = JdbcSchema.statements(JdbcSchema.text(dialect, JdbcSchema.V2), "app.tb");

    assertThat(v1).singleElement().asString().startsWith("CREATE TABLE IF NOT EXISTS app.tb (");
    for (String column : JdbcSchema.V1_COLUMNS) {
      assertThat(v1.get(0)).contains(column);
    }
    assertThat(v2).isNotEmpty().allSatisfy(s -> assertThat(s).startsWith("ALTER TABLE app.tb"));
    String all = String.join("\n", v2);
    for (String column : JdbcSchema.V2_COLUMNS) {
      assertThat(all)
          .contains("ADD COLUMN " + (dialect == Dialect.MYSQL ? "" : "IF NOT EXISTS ") + column);
    }
    assertThat(all)
        .doesNotContain(";")
        .doesNotContain("--")
        .doesNotContain(JdbcTokenStore.DEFAULT_TABLE)
        .doesNotContain("NOT NULL"); // version 2 only adds nullable columns
  }

  @Test
  void aNameThatMerelyContainsTheDefaultName_isLeftAlone() {
    assertThat(
            JdbcSchema.statements(
                "SELECT 1 FROM tokenbroker_tokens_old, tokenbroker_tokens;", "t_custom"))
        .containsExactly("SELECT 1 FROM tokenbroker_tokens_old, t_custom");
  }

  @ParameterizedTest
  @EnumSource(
      value = Dialect.class,
      names = {"POSTGRESQL", "MYSQL", "H2"})
  void liquibaseChangelog_runsTheFlywayScriptsInOrder(Dialect dialect) throws Exception {
    String path = "db/tokenbroker/" + dialect.folder + "/changelog.xml";
    Document doc;
    try (InputStream in = getClass().getClassLoader().getResourceAsStream(path)) {
      assertThat(in).as(path).isNotNull();
      DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
      f.setNamespaceAware(true);
      doc = f.newDocumentBuilder().parse(in);
    }
    NodeList files = doc.getElementsByTagNameNS("*", "sqlFile");
    List<String> paths = new ArrayList<>();
    for (int i = 0; i < files.getLength(); i++) {
      Element e = (Element) files.item(i);
      assertThat(e.getAttribute("relativeToChangelogFile")).isEqualTo("true");
      paths.add(e.getAttribute("path"));
    }

    assertThat(paths).containsExactlyElementsOf(JdbcSchema.SCRIPTS);
    for (String script : paths) {
      assertThat(JdbcSchema.text(dialect, script)).isNotBlank();
    }
  }
}
