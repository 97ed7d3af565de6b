package io.lakehouse.thrift;

import java.util.Set;
import org.apache.spark.sql.catalyst.CurrentUserContext$;
import org.apache.spark.sql.catalyst.analysis.ResolvedNamespace;
import org.apache.spark.sql.catalyst.analysis.ResolvedTable;
import org.apache.spark.sql.catalyst.catalog.HiveTableRelation;
import org.apache.spark.sql.catalyst.plans.logical.Command;
import org.apache.spark.sql.catalyst.plans.logical.LogicalPlan;
import org.apache.spark.sql.execution.datasources.LogicalRelation;
import org.apache.spark.sql.execution.datasources.v2.DataSourceV2Relation;
import scala.jdk.javaapi.CollectionConverters;
import scala.runtime.BoxedUnit;

/**
 * What the {@code analyst} JDBC login may do on the Thrift server: read silver and gold.
 *
 * <p>A check rule on every analysed statement (with its subqueries), for the session user the
 * Thrift server sets ({@code current_user()}): a table of any database but silver and gold
 * (bronze holds raw IP addresses), through a view too, and any command but the read-only ones
 * (SHOW, DESCRIBE, USE, SET) are refused. Reading a table by its path ({@code
 * delta.`s3a://...`}, which would reach bronze's files) is off for every JDBC login
 * ({@code spark.sql.runSQLOnFiles=false}, scripts/thrift.sh); a relation without a catalog
 * name is then one Delta reads for itself (its log), and is let through. The {@code
 * lakehouse} login and the pipeline are not affected; the rule is installed in the Thrift
 * server only ({@link AnalystAccessExtension}).
 */
public final class AnalystAccessRule implements scala.Function1<LogicalPlan, BoxedUnit> {

  static final String ANALYST = "analyst";
  static final Set<String> ANALYST_DATABASES = Set.of("silver", "gold");
  /** read-only commands an analyst may run, by class name */
  static final Set<String> READ_ONLY_COMMANDS =
      Set.of(
          "ShowTables", "ShowTablesExtended", "ShowNamespaces", "ShowViews", "ShowColumns",
          "ShowTableProperties", "ShowPartitions", "ShowCreateTable", "ShowFunctions",
          "ShowTablesCommand", "ShowColumnsCommand", "ShowCreateTableCommand",
          "ShowTablePropertiesCommand", "ShowPartitionsCommand", "ShowFunctionsCommand",
          "DescribeRelation", "DescribeColumn", "DescribeNamespace", "DescribeFunction",
          "DescribeTableCommand", "DescribeColumnCommand", "DescribeDatabaseCommand",
          "DescribeFunctionCommand", "DescribeQueryCommand", "SetCommand", "ResetCommand",
          "SetNamespaceCommand", "SetCatalogAndNamespace", "SetCatalogCommand",
          "ShowCatalogsCommand", "ShowCurrentNamespaceCommand", "ExplainCommand");

  /** A statement the analyst login may not run. */
  public static final class AccessDenied extends RuntimeException {
    private static final long serialVersionUID = 1L;

    AccessDenied(String message) {
      super("access denied for the " + ANALYST + " login: " + message);
    }
  }

  @Override
  public BoxedUnit apply(LogicalPlan plan) {
    if (ANALYST.equals(CurrentUserContext$.MODULE$.getCurrentUserOrEmpty())) {
      check(plan);
    }
    return BoxedUnit.UNIT;
  }

  /** Throws {@link AccessDenied} when the plan does what the analyst may not. */
  static void check(LogicalPlan plan) {
    plan.foreachWithSubqueries(
        node -> {
          inspect(node);
          return BoxedUnit.UNIT;
        });
  }

  private static void inspect(LogicalPlan node) {
    if (node instanceof Command && !READ_ONLY_COMMANDS.contains(node.getClass().getSimpleName())) {
      throw new AccessDenied("analysts run queries only, not " + node.nodeName());
    }
    if (node instanceof LogicalRelation) {
      LogicalRelation relation = (LogicalRelation) node;
      if (relation.catalogTable().isDefined()) {
        database(relation.catalogTable().get().identifier().database().getOrElse(() -> ""));
      }
    } else if (node instanceof DataSourceV2Relation) {
      DataSourceV2Relation relation = (DataSourceV2Relation) node;
      if (relation.identifier().isDefined()) {
        namespace(relation.identifier().get().namespace());
      }
    } else if (node instanceof HiveTableRelation) {
      database(
          ((HiveTableRelation) node).tableMeta().identifier().database().getOrElse(() -> ""));
    } else if (node instanceof ResolvedTable) {
      namespace(((ResolvedTable) node).identifier().namespace());
    } else if (node instanceof ResolvedNamespace) {
      namespace(
          CollectionConverters.asJava(((ResolvedNamespace) node).namespace())
              .toArray(new String[0]));
    }
  }

  private static void namespace(String[] parts) {
    // [db] or [catalog, db]: delta.`/path` is namespace [delta] and a path read
    String db = parts.length == 0 ? "" : parts[parts.length - 1];
    if (parts.length == 1 && ("delta".equals(db) || "parquet".equals(db))) {
      throw new AccessDenied("read tables by their name (silver.x, gold.x), not by path");
    }
    database(db);
  }

  private static void database(String db) {
    if (db.isEmpty()) {
      return; // a temporary view or the current namespace's own objects
    }
    if (!ANALYST_DATABASES.contains(db.toLowerCase(java.util.Locale.ROOT))) {
      throw new AccessDenied(
          "database " + db + " is not open to analysts (silver and gold are)");
    }
  }
}
