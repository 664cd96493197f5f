import DejaSupport
import Foundation

/// The sizes of a BERT encoder, read from the model folder's `config.json`.
///
/// all-MiniLM-L6-v2 is 6 layers of hidden size 384 with 12 heads and an intermediate size of
/// 1536 over a 30,522-word vocabulary. The loader checks every tensor against these sizes, so a
/// `config.json` from another model fails with the name of the first tensor that does not fit.
struct BertShape: Equatable, Sendable {
    var vocabularySize: Int
    var hiddenSize: Int
    var layers: Int
    var heads: Int
    var intermediateSize: Int
    var maxPositions: Int
    var typeVocabularySize: Int
    var layerNormEpsilon: Float

    var headSize: Int { hiddenSize / heads }

    private struct File: Decodable {
        var vocab_size: Int
        var hidden_size: Int
        var num_hidden_layers: Int
        var num_attention_heads: Int
        var intermediate_size: Int
        var max_position_embeddings: Int
        var type_vocab_size: Int?
        var layer_norm_eps: Double?
        var hidden_act: String?
        var model_type: String?
        var position_embedding_type: String?
    }

    init(vocabularySize: Int, hiddenSize: Int, layers: Int, heads: Int, intermediateSize: Int,
         maxPositions: Int, typeVocabularySize: Int, layerNormEpsilon: Float) {
        self.vocabularySize = vocabularySize
        self.hiddenSize = hiddenSize
        self.layers = layers
        self.heads = heads
        self.intermediateSize = intermediateSize
        self.maxPositions = maxPositions
        self.typeVocabularySize = typeVocabularySize
        self.layerNormEpsilon = layerNormEpsilon
    }

    /// Reads and checks `config.json`.
    ///
    /// - Throws: ``EmbeddingError/modelFile(path:reason:)`` when the file is missing, is not a
    ///   BERT configuration, or describes an encoder this implementation does not run.
    init(contentsOf path: String) throws(EmbeddingError) {
        let file: File
        do {
            file = try JSONDecoder().decode(File.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        } catch let error as DecodingError {
            throw .modelFile(path: path, reason: "not a BERT config.json (\(error.readableDescription))")
        } catch {
            throw .modelFile(path: path, reason: "cannot read it; run `make model`")
        }
        if let type = file.model_type, type != "bert" {
            throw .modelFile(path: path, reason: "model_type is \(type); only BERT encoders are supported")
        }
        if let act = file.hidden_act, act != "gelu" {
            throw .modelFile(path: path, reason: "hidden_act is \(act); only the exact gelu is supported")
        }
        if let position = file.position_embedding_type, position != "absolute" {
            throw .modelFile(path: path, reason: "position_embedding_type is \(position); only absolute is supported")
        }
        let sizes = [file.vocab_size, file.hidden_size, file.num_hidden_layers, file.num_attention_heads,
                     file.intermediate_size, file.max_position_embeddings]
        guard sizes.allSatisfy({ $0 > 0 && $0 < 1 << 20 }), file.hidden_size % file.num_attention_heads == 0 else {
            throw .modelFile(path: path, reason: "sizes must be positive and hidden_size a multiple of num_attention_heads")
        }
        self.init(
            vocabularySize: file.vocab_size, hiddenSize: file.hidden_size, layers: file.num_hidden_layers,
            heads: file.num_attention_heads, intermediateSize: file.intermediate_size,
            maxPositions: file.max_position_embeddings, typeVocabularySize: max(file.type_vocab_size ?? 2, 1),
            layerNormEpsilon: Float(file.layer_norm_eps ?? 1e-12))
    }
}
