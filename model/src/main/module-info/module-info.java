/**
 * A Pre-LN encoder-decoder Transformer on the Panamaformer kernels: the model, its training,
 * decoding and safetensors checkpoints. {@link dev.panamaformer.model.Transformer} is the entry
 * point. Requiring this module gives the kernels' API too (tensors appear in this one's).
 */
module dev.panamaformer.model {
    requires transitive dev.panamaformer.kernels;

    exports dev.panamaformer.model;
}
