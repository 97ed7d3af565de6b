package io.lakehouse.thrift;

import org.apache.spark.sql.SparkSessionExtensions;
import scala.runtime.BoxedUnit;

/**
 * Installs {@link AnalystAccessRule} (spark.sql.extensions of the Thrift server only,
 * scripts/thrift.sh, after Delta's extension).
 */
public final class AnalystAccessExtension
    implements scala.Function1<SparkSessionExtensions, BoxedUnit> {

  @Override
  public BoxedUnit apply(SparkSessionExtensions extensions) {
    extensions.injectCheckRule(session -> new AnalystAccessRule());
    return BoxedUnit.UNIT;
  }
}
