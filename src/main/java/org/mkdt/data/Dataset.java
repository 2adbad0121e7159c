package org.mkdt.data;

/**
 * A labelled image data set: training and test images, and the normalisation to feed them with.
 *
 * @param name  "fashion-mnist", "cifar10", ... or the folder it was read from
 * @param test  may have no images (a folder without a test split)
 */
public record Dataset(String name, ImageSet train, ImageSet test, Normalization normalization) {
    public Dataset {
        if (train.channels() != test.channels() || train.height() != test.height() || train.width() != test.width()) {
            throw new IllegalArgumentException(name + ": training images are " + train.channels() + "x" + train.height() + "x" + train.width()
                    + " but test images are " + test.channels() + "x" + test.height() + "x" + test.width());
        }
    }
}
