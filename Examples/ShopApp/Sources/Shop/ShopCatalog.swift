import Runnel

/// Everything the shop brings to Runnel.
public enum ShopCatalog {
    public static var catalog: Catalog {
        Catalog(
            name: "shop",
            migrations: .embedded([
                // SwiftPM names each embedded file after its name, a leading digit replaced by `_`.
                "0001_orders.sql": PackageResources._001_orders_sql,
                "0002_refund_reasons.sql": PackageResources._002_refund_reasons_sql,
            ]),
            sampleData: ShopDataSet(),
            pipelines: [RevenuePipeline.pipeline],
            eventTypes: ["OrderPlaced", "OrderRefunded"])
    }
}
