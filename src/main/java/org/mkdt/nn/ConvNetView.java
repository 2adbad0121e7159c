package org.mkdt.nn;

/**
 * A ConvNet read as an encoder through another representation than its flattened conv
 * features ({@link Pooled}, {@link HeadOutput}): the parameters are the ConvNet's own.
 */
abstract class ConvNetView implements Encoder {
    final ConvNet net;

    ConvNetView(ConvNet net) {
        this.net = net;
    }

    @Override
    public final ParamLayout layout() {
        return net.layout();
    }
}
