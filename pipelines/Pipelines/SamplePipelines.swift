import Runnel

/// The sample network's pipelines, in the order `demo` and `run --all` run them.
public enum SamplePipelines {
    @PipelinesBuilder
    public static var all: [Pipeline] {
        MemberProfilesPipeline.pipeline
        MemberEngagementPipeline.pipeline
        ProfileViewsPipeline.pipeline
        MemberSessionsPipeline.pipeline
        MemberFeaturesPipeline.pipeline
        MemberHeadlinesPipeline.pipeline
    }
}
